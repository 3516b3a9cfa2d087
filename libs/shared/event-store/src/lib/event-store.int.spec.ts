import { ContractError } from '@tessera/contracts';
import { type TestDatabase, createTestDatabase } from '@tessera/testing';
import type { DataSource } from 'typeorm';
import { counterDecider, counterRegistry, metadata, openTestDataSource } from '../test/counter';
import { CommandHandler } from './command-handler';
import { ConcurrencyError } from './errors';
import { PostgresEventStore } from './event-store';

describe('PostgreSQL event store', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase('event_store');
    dataSource = await openTestDataSource(database.url, 40);
    await dataSource.query(`CREATE TABLE counter_totals (user_id TEXT PRIMARY KEY, total INT NOT NULL)`);
    store = new PostgresEventStore(dataSource, counterRegistry(), [
      {
        name: 'counter-totals',
        apply: async (events, manager) => {
          for (const event of events) {
            const data = event.data as { userId: string; by: number };
            if (data.by === 13) throw new Error('projection refuses 13');
            await manager.query(
              `INSERT INTO counter_totals (user_id, total) VALUES ($1, $2)
               ON CONFLICT (user_id) DO UPDATE SET total = counter_totals.total + EXCLUDED.total`,
              [data.userId, data.by],
            );
          }
        },
      },
    ]);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const context = (streamId: string, userId = 'user-1') => ({ streamId, partitionKey: userId, metadata, now: new Date('2026-11-28T10:00:00Z') });

  it('appends events with envelope metadata and reads them back in stream order', async () => {
    const handler = new CommandHandler(store);
    await handler.handle(counterDecider, { type: 'Increment', userId: 'user-1', by: 2 }, context('counter-a'));
    const result = await handler.handle(counterDecider, { type: 'Increment', userId: 'user-1', by: 3 }, context('counter-a'));
    expect(result.state.total).toBe(5);
    expect(result.version).toBe(2);

    const { events, version } = await store.readStream('counter-a');
    expect(version).toBe(2);
    expect(events.map((event) => [event.streamVersion, event.type, event.data])).toEqual([
      [1, 'CounterIncremented', { userId: 'user-1', by: 2 }],
      [2, 'CounterIncremented', { userId: 'user-1', by: 3 }],
    ]);
    expect(events[0]).toMatchObject({ version: 1, streamId: 'counter-a', actor: metadata.actor, correlationId: 'test-correlation', causationId: null, partitionKey: 'user-1', occurredAt: '2026-11-28T10:00:00.000Z' });
    expect(events[0].eventId).not.toBe(events[1].eventId);
  });

  it('R5: parallel writers on one stream all land, each exactly once, with no lost update', async () => {
    const handler = new CommandHandler(store, 50);
    const writers = 24;
    const results = await Promise.all(
      Array.from({ length: writers }, () => handler.handle(counterDecider, { type: 'Increment', userId: 'user-2', by: 1 }, context('counter-r5', 'user-2'))),
    );
    const { events, version } = await store.readStream('counter-r5');
    expect(version).toBe(writers);
    expect(events.map((event) => event.streamVersion)).toEqual(Array.from({ length: writers }, (_, index) => index + 1));
    expect(new Set(results.map((result) => result.version)).size).toBe(writers);
    const [{ total }] = await dataSource.query(`SELECT total FROM counter_totals WHERE user_id = 'user-2'`);
    expect(total).toBe(writers);
  });

  it('R5: a writer that keeps losing the race is refused with a clean conflict, not a lost update', async () => {
    const handler = new CommandHandler(store, 1);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => handler.handle(counterDecider, { type: 'Increment', userId: 'user-3', by: 1 }, context('counter-contended', 'user-3'))),
    );
    const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    const conflicts = outcomes.filter((outcome) => outcome.status === 'rejected' && outcome.reason instanceof ConcurrencyError);
    expect(succeeded + conflicts.length).toBe(10);
    expect(conflicts.length).toBeGreaterThan(0);
    expect((await store.readStream('counter-contended')).version).toBe(succeeded);
  });

  it('R5: an append at a stale or future expected version is refused', async () => {
    await new CommandHandler(store).handle(counterDecider, { type: 'Increment', userId: 'user-4', by: 1 }, context('counter-versions', 'user-4'));
    const event = { type: 'CounterIncremented', data: { userId: 'user-4', by: 1 } };
    await expect(store.transaction((manager) => store.append(manager, 'counter-versions', 0, [event], context('counter-versions', 'user-4')))).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(store.transaction((manager) => store.append(manager, 'counter-versions', 5, [event], context('counter-versions', 'user-4')))).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await store.readStream('counter-versions')).version).toBe(1);
  });

  it('refuses an event that breaks its contract (an extra field could carry a secret) and stores nothing', async () => {
    const smuggled = { type: 'CounterIncremented', data: { userId: 'user-5', by: 1, seed: 'JBSWY3DPEHPK3PXP' } };
    await expect(store.transaction((manager) => store.append(manager, 'counter-contract', 0, [smuggled], context('counter-contract', 'user-5')))).rejects.toBeInstanceOf(ContractError);
    expect((await store.readStream('counter-contract')).version).toBe(0);
  });

  it('updates inline projections in the same transaction: a failing projection rolls the append back', async () => {
    const handler = new CommandHandler(store);
    await expect(handler.handle(counterDecider, { type: 'Increment', userId: 'user-6', by: 13 }, context('counter-projection', 'user-6'))).rejects.toThrow('projection refuses 13');
    expect((await store.readStream('counter-projection')).version).toBe(0);
    expect(await dataSource.query(`SELECT * FROM counter_totals WHERE user_id = 'user-6'`)).toEqual([]);
  });

  it('a decider rule that says no stores nothing', async () => {
    const handler = new CommandHandler(store);
    await handler.handle(counterDecider, { type: 'Increment', userId: 'user-7', by: 2, limit: 3 }, context('counter-limit', 'user-7'));
    await expect(handler.handle(counterDecider, { type: 'Increment', userId: 'user-7', by: 2, limit: 3 }, context('counter-limit', 'user-7'))).rejects.toMatchObject({ code: 'limit_reached' });
    expect((await store.readStream('counter-limit')).version).toBe(1);
  });

  it('the events table is append-only: UPDATE and DELETE are refused by the database', async () => {
    await new CommandHandler(store).handle(counterDecider, { type: 'Increment', userId: 'user-8', by: 1 }, context('counter-immutable', 'user-8'));
    await expect(dataSource.query(`UPDATE events SET data = '{}' WHERE stream_id = 'counter-immutable'`)).rejects.toThrow(/append-only/);
    await expect(dataSource.query(`DELETE FROM events WHERE stream_id = 'counter-immutable'`)).rejects.toThrow(/append-only/);
  });
});
