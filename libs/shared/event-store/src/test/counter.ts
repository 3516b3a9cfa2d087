import { EventRegistry } from '@tessera/contracts';
import { type Decider, DomainError } from '@tessera/event-sourcing';
import { EventStoreSchema1732752000000 } from '../lib/schema.migration';
import { DataSource } from 'typeorm';
import { z } from 'zod';

/** A minimal decider used to exercise the store: a per-user counter that refuses to pass a limit. */
export type CounterEvent = { type: 'CounterIncremented'; data: { userId: string; by: number } };
export type CounterCommand = { type: 'Increment'; userId: string; by: number; limit?: number };
export type CounterState = { total: number };

export const counterDecider: Decider<CounterCommand, CounterEvent, CounterState> = {
  initialState: () => ({ total: 0 }),
  evolve: (state, event) => ({ total: state.total + event.data.by }),
  decide: (command, state) => {
    if (command.limit !== undefined && state.total + command.by > command.limit) {
      throw new DomainError('limit_reached', 'the counter would pass its limit');
    }
    return [{ type: 'CounterIncremented', data: { userId: command.userId, by: command.by } }];
  },
};

export const counterRegistry = () =>
  new EventRegistry().register({ CounterIncremented: z.strictObject({ userId: z.string(), by: z.number().int() }) });

export const metadata = { actor: { kind: 'user' as const, id: 'user-1' }, correlationId: 'test-correlation' };

export async function openTestDataSource(url: string, poolSize = 20): Promise<DataSource> {
  const dataSource = new DataSource({ type: 'postgres', url, migrations: [EventStoreSchema1732752000000], extra: { max: poolSize } });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}
