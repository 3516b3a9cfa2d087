import { Inject, Injectable } from '@nestjs/common';
import { type AuthEvent, type EventEnvelope, parseAuthEvent } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { type EventConsumer, PermanentEventError } from '@tessera/event-store';
import { LOGGER } from '@tessera/platform';
import { TERMINAL_RECOVERY_STATUSES } from '@tessera/recovery-workflows';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import { RecoveryService } from '../recoveries/recovery.service';
import { AUTH_SERVICE_PRINCIPAL, LINKED_AUTH_EVENT_TYPES, linkedStep } from './auth-link';

/**
 * auth-service's facts (topic tessera.auth.v1) that move a recovery on: its pass redeemed, a factor
 * bound with it. Each becomes the recovery's step through `RecoveryService.step`, the use case behind
 * the REST and gRPC calls of the same steps, so the workflow and the decider see no difference.
 * Carried by Kafka from auth-service's outbox, the facts survive this service being down (R1, R2).
 *
 * - Redelivery is harmless: the idempotent consumer skips an event id it has recorded, and a step
 *   taken before a crash that lost that record is refused by the decider the second time
 *   (`pass_already_used`; an enrolment recorded twice is a no-op) and only logged.
 * - A fact for no recovery of that user, or for one that has ended, is logged and dropped: nothing can
 *   happen to it, and the consumer must not stall on it. A refusal by the decider (a pass of another
 *   recovery, an enrolment past its deadline) is the same: the recovery does not change.
 * - Anything else — Temporal or the worker unreachable, the database down — propagates, so the event
 *   is retried through redelivery and never lost. So is one race: the pass was redeemed before the
 *   workflow had recorded issuing it (the recovery still `cooling-off`, a moment away from
 *   `pass-issued`); the retry finds it recorded.
 */
@Injectable()
export class AuthLinkConsumer implements EventConsumer {
  constructor(
    @Inject(RecoveryService) private readonly recoveries: RecoveryService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    if (!LINKED_AUTH_EVENT_TYPES.has(envelope.type)) return;
    let event: AuthEvent;
    try {
      event = parseAuthEvent(envelope.type, envelope.data);
    } catch (error) {
      throw new PermanentEventError(`invalid ${envelope.type}: ${(error as Error).message}`);
    }
    const link = linkedStep(event);
    if (link === null) return;
    const context = { eventId: envelope.eventId, type: envelope.type, userId: link.userId, recoveryId: link.recoveryId, step: link.step.type };

    const [recovery]: { user_id: string; status: string }[] = await manager.query(`SELECT user_id, status FROM recoveries WHERE recovery_id = $1`, [link.recoveryId]);
    if (recovery === undefined || recovery.user_id !== link.userId) {
      this.logger.info(context, 'auth event names no recovery of its user; ignored');
      return;
    }
    if (TERMINAL_RECOVERY_STATUSES.includes(recovery.status)) {
      this.logger.info({ ...context, status: recovery.status }, 'auth event for a recovery that has ended; ignored');
      return;
    }
    try {
      await this.recoveries.step(AUTH_SERVICE_PRINCIPAL, link.recoveryId, link.step, envelope.correlationId);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'pass_not_issued' && recovery.status === 'cooling-off') {
        throw new Error(`recovery ${link.recoveryId} has not recorded its pass yet; ${envelope.type} is retried`);
      }
      this.logger.info({ ...context, refusal: error.code }, 'recovery refused the step an auth event stands for; the recovery is unchanged');
    }
  }
}
