import { Inject, Injectable } from '@nestjs/common';
import { type DeviceEvent, type EventMetadata, deviceStreamId } from '@tessera/contracts';
import { type DeviceCommand, type UserDevices, devicesDecider } from '@tessera/device-domain';
import { fold } from '@tessera/event-sourcing';
import { CommandHandler, ConcurrencyError, PostgresEventStore, type StoredEvent } from '@tessera/event-store';
import type { EntityManager } from 'typeorm';
import { ReadinessAssessor } from './readiness-assessor';

export interface DeviceCommandResult {
  readonly events: readonly StoredEvent[];
  readonly state: UserDevices;
}

/** Attempts of a command inside a consumer's transaction before the conflict is handed back to Kafka. */
const IN_TRANSACTION_ATTEMPTS = 5;

/**
 * The one way device-registry changes a user's devices: the devices decider on the stream
 * `devices-user-<userId>`, then a readiness re-assessment, all in one transaction (so a
 * `RecoveryReadinessDropped` exists if and only if the change that caused it does).
 */
@Injectable()
export class DeviceCommands {
  constructor(
    @Inject(CommandHandler) private readonly handler: CommandHandler,
    @Inject(PostgresEventStore) private readonly store: PostgresEventStore,
    @Inject(ReadinessAssessor) private readonly readiness: ReadinessAssessor,
  ) {}

  /** In its own transaction, retried on a concurrent append (R5). */
  async execute(
    command: DeviceCommand,
    metadata: EventMetadata,
    alsoInTransaction?: (manager: EntityManager, events: readonly StoredEvent[]) => Promise<void>,
  ): Promise<DeviceCommandResult> {
    const { userId } = command.data;
    const now = command.metadata.now;
    const result = await this.handler.handle(devicesDecider, command, {
      streamId: deviceStreamId(userId),
      partitionKey: userId,
      metadata,
      now,
      alsoInTransaction: async (manager, events) => {
        if (alsoInTransaction) await alsoInTransaction(manager, events);
        if (events.length > 0) await this.readiness.reassess(manager, userId, now, metadata);
      },
    });
    return { events: result.events, state: result.state };
  }

  /**
   * Inside a transaction someone else opened (a consumer's, which also records the event as
   * processed). A savepoint lets a conflicting append be retried without losing that transaction; a
   * conflict that persists is thrown as a plain Error, so the consumer retries the message rather
   * than dead-lettering it as a refusal.
   */
  async executeIn(manager: EntityManager, command: DeviceCommand, metadata: EventMetadata): Promise<DeviceCommandResult> {
    const { userId } = command.data;
    const streamId = deviceStreamId(userId);
    await lockUser(manager, userId);
    for (let attempt = 1; ; attempt++) {
      await manager.query('SAVEPOINT device_command');
      try {
        const { events, version } = await this.store.readStream(streamId, manager);
        const state = fold(devicesDecider, events as unknown as DeviceEvent[]);
        const decided = devicesDecider.decide(command, state);
        const stored = await this.store.append(manager, streamId, version, decided, { partitionKey: userId, metadata, now: command.metadata.now });
        if (stored.length > 0) await this.readiness.reassess(manager, userId, command.metadata.now, metadata);
        await manager.query('RELEASE SAVEPOINT device_command');
        return { events: stored, state: decided.reduce((current, event) => devicesDecider.evolve(current, event), state) };
      } catch (error) {
        await manager.query('ROLLBACK TO SAVEPOINT device_command');
        if (!(error instanceof ConcurrencyError)) throw error;
        if (attempt >= IN_TRANSACTION_ATTEMPTS) throw new Error(`stream ${streamId} stayed contended; the message will be redelivered`);
      }
    }
  }

  /**
   * A readiness re-assessment inside a consumer's transaction, after a change of auth-service's facts
   * alone (no device command): the same lock, savepoint and retries as `executeIn`, because it may
   * append `RecoveryReadinessDropped` to the user's stream.
   */
  async reassessIn(manager: EntityManager, userId: string, now: Date, metadata: EventMetadata): Promise<void> {
    await lockUser(manager, userId);
    for (let attempt = 1; ; attempt++) {
      await manager.query('SAVEPOINT readiness');
      try {
        await this.readiness.reassess(manager, userId, now, metadata);
        await manager.query('RELEASE SAVEPOINT readiness');
        return;
      } catch (error) {
        await manager.query('ROLLBACK TO SAVEPOINT readiness');
        if (!(error instanceof ConcurrencyError)) throw error;
        if (attempt >= IN_TRANSACTION_ATTEMPTS) throw new Error(`stream of ${userId} stayed contended; the message will be redelivered`);
      }
    }
  }

  /** The user's devices as folded from their stream (the authority, for decisions outside a command). */
  async load(userId: string, manager?: EntityManager): Promise<UserDevices> {
    const { events } = await this.store.readStream(deviceStreamId(userId), manager);
    return fold(devicesDecider, events as unknown as DeviceEvent[]);
  }

  /**
   * Runs `work` in one transaction holding the user's lock, for a decision that must stay true while
   * something outside this database happens (a device revocation calls auth-service between deciding
   * and recording: two revocations racing must not both pass S24). Consumers take the same lock.
   */
  async withUserLock<T>(userId: string, work: (locked: LockedUser) => Promise<T>): Promise<T> {
    return this.store.transaction(async (manager) => {
      await lockUser(manager, userId);
      return work({
        manager,
        load: () => this.load(userId, manager),
        execute: (command, metadata) => this.executeIn(manager, command, metadata),
      });
    });
  }
}

export interface LockedUser {
  readonly manager: EntityManager;
  load(): Promise<UserDevices>;
  execute(command: DeviceCommand, metadata: EventMetadata): Promise<DeviceCommandResult>;
}

/** A transaction-scoped advisory lock per user (released at commit or rollback). */
async function lockUser(manager: EntityManager, userId: string): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [deviceStreamId(userId)]);
}
