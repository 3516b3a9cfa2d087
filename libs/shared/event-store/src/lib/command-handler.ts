import type { EventMetadata } from '@tessera/contracts';
import { type Decider, fold } from '@tessera/event-sourcing';
import type { EntityManager } from 'typeorm';
import { ConcurrencyError } from './errors';
import type { NewEvent, PostgresEventStore, StoredEvent } from './event-store';

export interface CommandContext {
  readonly streamId: string;
  readonly partitionKey: string;
  readonly metadata: EventMetadata;
  readonly now: Date;
  /** Extra work in the same transaction, after the append (e.g. a conditional update of a guard row). */
  readonly alsoInTransaction?: (manager: EntityManager, events: readonly StoredEvent[]) => Promise<void>;
}

export interface CommandResult<State> {
  readonly events: readonly StoredEvent[];
  readonly state: State;
  readonly version: number;
}

/**
 * Load → decide → append with the expected version, in one transaction; on a concurrent append the
 * whole cycle runs again on the fresh stream (R5), at most `maxAttempts` times with jittered backoff.
 */
export class CommandHandler {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly maxAttempts = 5,
  ) {}

  async handle<Command, Event extends NewEvent, State>(
    decider: Decider<Command, Event, State>,
    command: Command,
    context: CommandContext,
  ): Promise<CommandResult<State>> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.store.hasInlineProjections && !context.alsoInTransaction) return await this.decideAndAppend(decider, command, context);
        return await this.store.transaction(async (manager) => {
          const { events, version } = await this.store.readStream(context.streamId, manager);
          const state = fold(decider, events as unknown as Event[]);
          const decided = decider.decide(command, state);
          const stored = await this.store.append(manager, context.streamId, version, decided, context);
          if (context.alsoInTransaction) await context.alsoInTransaction(manager, stored);
          const next = decided.reduce((current, event) => decider.evolve(current, event), state);
          return { events: stored, state: next, version: version + stored.length };
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= this.maxAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  /**
   * Without other writes to share a transaction with, the read needs none: the append is one atomic
   * statement that fails with ConcurrencyError if the stream moved since the read (R5).
   */
  private async decideAndAppend<Command, Event extends NewEvent, State>(
    decider: Decider<Command, Event, State>,
    command: Command,
    context: CommandContext,
  ): Promise<CommandResult<State>> {
    const { events, version } = await this.store.readStream(context.streamId);
    const state = fold(decider, events as unknown as Event[]);
    const decided = decider.decide(command, state);
    const stored = await this.store.appendNow(context.streamId, version, decided, context);
    const next = decided.reduce((current, event) => decider.evolve(current, event), state);
    return { events: stored, state: next, version: version + stored.length };
  }
}
