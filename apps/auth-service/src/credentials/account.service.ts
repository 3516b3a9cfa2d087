import { Inject, Injectable } from '@nestjs/common';
import {
  type AccountState,
  accountOf,
  authUserStreamId,
  CREDENTIALS_SNAPSHOT_EVERY,
  type CredentialsCommand,
  credentialsDecider,
  credentialsSnapshotCodec,
  type CredentialsState,
} from '@tessera/auth-domain';
import type { Actor } from '@tessera/contracts';
import { CommandHandler, type JoinableRead, type LoadedStream, type NewEvent, type StatementWrite, type StoredEvent } from '@tessera/event-store';
import { currentCorrelationId } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { EntityManager } from 'typeorm';

export interface Executed {
  readonly events: readonly StoredEvent[];
  readonly state: CredentialsState;
}

export interface ExecuteOptions {
  /** Work that must commit with the events and needs a transaction (several statements, reads). */
  readonly alsoInTransaction?: (manager: EntityManager, events: readonly StoredEvent[]) => Promise<void>;
  /** Writes that commit with the events in the append's own statement (guards, S1/S12), chosen after seeing them. */
  readonly writes?: (events: readonly NewEvent[]) => readonly StatementWrite[];
  /** The stream as just loaded by `loadStream` (e.g. in parallel with other reads), so it is not read twice. */
  readonly loaded?: LoadedStream<CredentialsState>;
}

/**
 * The one way auth-service changes a user's credentials: the pure decider of @tessera/auth-domain run
 * by the shared command handler (load → decide → append with the expected version, retried on a
 * concurrent append, R5). The user's stream gains an event per sign-in, so it is loaded from a snapshot
 * and the events after it, never the whole history. Verifier material that must commit or roll back with
 * the events (seeds, keys, code rows, the S1/S12 conditional updates) goes in `writes` (one statement
 * with the append) or `alsoInTransaction`.
 */
@Injectable()
export class AccountService {
  constructor(@Inject(CommandHandler) private readonly handler: CommandHandler) {
    handler.enableSnapshots(credentialsDecider, { codec: credentialsSnapshotCodec, every: CREDENTIALS_SNAPSHOT_EVERY });
  }

  loadStream(userId: string): Promise<LoadedStream<CredentialsState>> {
    return this.handler.load(credentialsDecider, authUserStreamId(userId));
  }

  /**
   * `loadStream` as a read that can share one statement with others (see readTogether). It decodes to
   * undefined when the snapshot cannot be read: then call `loadStream`, which folds the whole stream.
   */
  streamRead(userId: string): JoinableRead<LoadedStream<CredentialsState> | undefined> {
    const read = this.handler.read(credentialsDecider, authUserStreamId(userId));
    if (read === undefined) throw new Error('credential snapshots are enabled in the constructor');
    return read;
  }

  async load(userId: string): Promise<AccountState> {
    return accountOf((await this.loadStream(userId)).state, userId);
  }

  async execute(command: CredentialsCommand, actor: Actor, options: ExecuteOptions | ExecuteOptions['alsoInTransaction'] = {}): Promise<Executed> {
    const { alsoInTransaction, writes, loaded } = typeof options === 'function' ? { alsoInTransaction: options, writes: undefined, loaded: undefined } : options;
    const result = await this.handler.handle(credentialsDecider, command, {
      streamId: authUserStreamId(command.userId),
      partitionKey: command.userId,
      metadata: { actor, correlationId: currentCorrelationId() ?? uuidv7() },
      now: command.now,
      alsoInTransaction,
      writes,
      loaded,
    });
    return { events: result.events, state: result.state };
  }
}
