import { Inject, Injectable } from '@nestjs/common';
import {
  type AccountState,
  accountOf,
  authUserStreamId,
  type CredentialsCommand,
  credentialsDecider,
  type CredentialsState,
} from '@tessera/auth-domain';
import type { Actor, AuthEvent } from '@tessera/contracts';
import { fold } from '@tessera/event-sourcing';
import { CommandHandler, PostgresEventStore, type StoredEvent } from '@tessera/event-store';
import { currentCorrelationId } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { EntityManager } from 'typeorm';

export interface Executed {
  readonly events: readonly StoredEvent[];
  readonly state: CredentialsState;
}

/**
 * The one way auth-service changes a user's credentials: the pure decider of @tessera/auth-domain run
 * by the shared command handler (load → decide → append with the expected version, retried on a
 * concurrent append, R5). `alsoInTransaction` writes the verifier material that must commit or roll back
 * with the events (seeds, keys, code rows, the S1/S12 conditional updates).
 */
@Injectable()
export class AccountService {
  constructor(
    @Inject(CommandHandler) private readonly handler: CommandHandler,
    @Inject(PostgresEventStore) private readonly store: PostgresEventStore,
  ) {}

  async load(userId: string): Promise<AccountState> {
    const { events } = await this.store.readStream(authUserStreamId(userId));
    return accountOf(fold(credentialsDecider, events as unknown as AuthEvent[]), userId);
  }

  async execute(
    command: CredentialsCommand,
    actor: Actor,
    alsoInTransaction?: (manager: EntityManager, events: readonly StoredEvent[]) => Promise<void>,
  ): Promise<Executed> {
    const result = await this.handler.handle(credentialsDecider, command, {
      streamId: authUserStreamId(command.userId),
      partitionKey: command.userId,
      metadata: { actor, correlationId: currentCorrelationId() ?? uuidv7() },
      now: command.now,
      alsoInTransaction,
    });
    return { events: result.events, state: result.state };
  }
}
