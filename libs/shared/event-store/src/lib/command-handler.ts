import type { EventMetadata } from '@tessera/contracts';
import { type Decider, fold } from '@tessera/event-sourcing';
import type { EntityManager } from 'typeorm';
import { ConcurrencyError } from './errors';
import type { AppendExtras, JoinableRead, NewEvent, PostgresEventStore, StatementWrite, StoredEvent } from './event-store';

export interface CommandContext {
  readonly streamId: string;
  readonly partitionKey: string;
  readonly metadata: EventMetadata;
  readonly now: Date;
  /** Extra work in the same transaction, after the append (e.g. a conditional update of a guard row). */
  readonly alsoInTransaction?: (manager: EntityManager, events: readonly StoredEvent[]) => Promise<void>;
  /**
   * The stream as the caller just loaded it with `load()` (e.g. beside other reads, in parallel): the
   * first attempt decides on it instead of reading again. A stale one costs a retry, never a lost update:
   * the append still checks the version.
   */
  readonly loaded?: LoadedStream<unknown>;
  /**
   * Writes that commit with the decided events, chosen after seeing them (e.g. a guard only for a
   * success). Without `alsoInTransaction` they join the append's own statement (StatementWrite): one
   * round trip for the whole command. No events, no writes.
   */
  readonly writes?: (events: readonly NewEvent[]) => readonly StatementWrite[];
}

export interface CommandResult<State> {
  readonly events: readonly StoredEvent[];
  readonly state: State;
  readonly version: number;
}

/** A stream folded to its state, and where it stands. */
export interface LoadedStream<State> {
  readonly state: State;
  readonly version: number;
  /** Version of the snapshot it was loaded from (0: none), which says when the next one is due. */
  readonly snapshotVersion: number;
}

/**
 * How a decider's state is stored in a snapshot. `name` names the state's shape: snapshots written under
 * another name are ignored (the stream is folded in full and a new snapshot replaces them), so change it
 * whenever the state or `evolve` changes meaning. `encode` must give JSON-safe data and `decode` must
 * give back a state equal to the one encoded (Dates and other non-JSON values are the codec's job);
 * `decode` throws on anything it does not recognise, and the snapshot is then ignored.
 */
export interface SnapshotCodec<State> {
  readonly name: string;
  encode(state: State): unknown;
  decode(stored: unknown): State;
}

export interface SnapshotPolicy<State> {
  readonly codec: SnapshotCodec<State>;
  /** A snapshot is written with the append that takes the stream this many events past the last one. */
  readonly every: number;
}

/**
 * Load → decide → append with the expected version; on a concurrent append the whole cycle runs again
 * on the fresh stream (R5), at most `maxAttempts` times with jittered backoff.
 *
 * Snapshots are opt-in per decider (`enableSnapshots`): loading then reads the latest snapshot and the
 * events after it in one statement, so the cost of a command no longer grows with the stream's history,
 * and a new snapshot is written in the same statement or transaction as the append that makes it due.
 */
export class CommandHandler {
  private readonly snapshots = new WeakMap<object, SnapshotPolicy<unknown>>();

  constructor(
    private readonly store: PostgresEventStore,
    private readonly maxAttempts = 5,
  ) {}

  /** Turns snapshots on for one decider (call once, at start-up). */
  enableSnapshots<Command, Event, State>(decider: Decider<Command, Event, State>, policy: SnapshotPolicy<State>): void {
    if (!Number.isInteger(policy.every) || policy.every < 1) throw new RangeError('a snapshot policy needs every >= 1');
    this.snapshots.set(decider, policy as SnapshotPolicy<unknown>);
  }

  /** The stream's current state: from its snapshot and the events after it when snapshots are on. */
  async load<Command, Event extends NewEvent, State>(
    decider: Decider<Command, Event, State>,
    streamId: string,
    manager?: EntityManager,
  ): Promise<LoadedStream<State>> {
    const read = this.read(decider, streamId);
    if (read !== undefined) {
      const [loaded] = await this.store.readTogether([read], manager);
      if (loaded !== undefined) return loaded;
    }
    const { events, version } = await this.store.readStream(streamId, manager);
    return { state: fold(decider, events as unknown as Event[]), version, snapshotVersion: 0 };
  }

  /**
   * `load` as a read that can share one statement with others (see readTogether), for a decider with
   * snapshots on (undefined otherwise). It decodes to undefined when the snapshot cannot be read, and
   * the caller then calls `load`, which folds the whole stream.
   */
  read<Command, Event extends NewEvent, State>(decider: Decider<Command, Event, State>, streamId: string): JoinableRead<LoadedStream<State> | undefined> | undefined {
    const policy = this.snapshots.get(decider) as SnapshotPolicy<State> | undefined;
    if (policy === undefined) return undefined;
    const read = this.store.snapshotRead(streamId, policy.codec.name);
    return {
      ...read,
      decode: (rows) => {
        const { snapshot, events, version } = read.decode(rows);
        let base: State | undefined;
        try {
          base = snapshot === null ? decider.initialState() : policy.codec.decode(snapshot.state);
        } catch {
          return undefined; // unreadable: the caller folds the whole stream, and the next append replaces it
        }
        const state = (events as unknown as Event[]).reduce((current, event) => decider.evolve(current, event), base);
        return { state, version, snapshotVersion: snapshot?.version ?? 0 };
      },
    };
  }

  async handle<Command, Event extends NewEvent, State>(
    decider: Decider<Command, Event, State>,
    command: Command,
    context: CommandContext,
  ): Promise<CommandResult<State>> {
    let preloaded = context.loaded as LoadedStream<State> | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const given = preloaded;
        preloaded = undefined;
        if (context.alsoInTransaction) {
          return await this.store.transaction(async (manager) => {
            const loaded = given ?? (await this.load(decider, context.streamId, manager));
            return this.decideAndAppend(decider, command, context, loaded, manager);
          });
        }
        return await this.decideAndAppend(decider, command, context, given ?? (await this.load(decider, context.streamId)));
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= this.maxAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  /**
   * Decides on the loaded state and appends. The next state is evolved from the events as they will be
   * stored (checked against their contracts), so a snapshot of it equals a fold of the stored stream.
   */
  private async decideAndAppend<Command, Event extends NewEvent, State>(
    decider: Decider<Command, Event, State>,
    command: Command,
    context: CommandContext,
    loaded: LoadedStream<State>,
    manager?: EntityManager,
  ): Promise<CommandResult<State>> {
    const decided = this.store.validate(decider.decide(command, loaded.state));
    const state = decided.reduce((current, event) => decider.evolve(current, event), loaded.state);
    const version = loaded.version + decided.length;
    const policy = this.snapshots.get(decider) as SnapshotPolicy<State> | undefined;
    const extras: AppendExtras = {
      writes: decided.length > 0 ? (context.writes?.(decided) ?? []) : [],
      snapshot:
        policy !== undefined && decided.length > 0 && version - loaded.snapshotVersion >= policy.every
          ? { version, codec: policy.codec.name, state: policy.codec.encode(state) }
          : undefined,
    };
    const options = { partitionKey: context.partitionKey, metadata: context.metadata, now: context.now };
    if (manager === undefined) {
      const stored = await this.store.appendWith(context.streamId, loaded.version, decided, options, extras);
      return { events: stored, state, version };
    }
    const stored = await this.store.append(manager, context.streamId, loaded.version, decided, options, extras);
    if (context.alsoInTransaction) await context.alsoInTransaction(manager, stored);
    return { events: stored, state, version };
  }
}
