import { Inject, Injectable } from '@nestjs/common';
import type { EventEnvelope } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { type EventConsumer, PermanentEventError } from '@tessera/event-store';
import { CONFIG, LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import { ChannelNotifier } from '../ports/webhook.adapters';
import type { RecoveryOrchestratorConfig } from '../service';
import { type AccountNotice, accountNoticeOf } from './account-notices';

/**
 * S22 for changes made outside a recovery: every factor bound or removed in auth-service
 * (`tessera.auth.v1`) and every vault restore, loss report and device revocation in device-registry
 * (`tessera.devices.v1`) is told to the user on every channel, from this service rather than from the
 * one that made the change — "through a path independent of the request" (NIST SP 800-63B-4
 * §4.1.2.1, §4.6): whoever made the change cannot also suppress its notice.
 *
 * The idempotent consumer records each event id once its handler returned (R1); the notice's
 * idempotency key is the event id, and the notifier's delivery ledger keeps a retry to the addresses
 * that failed. So: a redelivered event sends nothing again; a channel failing transiently throws, the
 * batch rolls back and the event comes again, nothing lost; a user with no channel is logged (a count)
 * and skipped. Events older than NOTICES_MAX_AGE are skipped: a consumer group that is new (a first
 * deployment) reads the topics from their start, and weeks-old bindings told today would only confuse.
 */
@Injectable()
export class SecurityNoticesConsumer implements EventConsumer {
  constructor(
    @Inject(ChannelNotifier) private readonly notifier: ChannelNotifier,
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: EventEnvelope): Promise<void> {
    let notice: AccountNotice | null;
    try {
      notice = accountNoticeOf(envelope);
    } catch (error) {
      throw new PermanentEventError(`invalid ${envelope.type}: ${(error as Error).message}`);
    }
    if (notice === null) return;
    const ageMs = Date.now() - Date.parse(envelope.occurredAt);
    if (ageMs > this.config.NOTICES_MAX_AGE) {
      // Debug: a new group catching up would otherwise write a line per old event.
      this.logger.debug({ eventType: envelope.type, eventId: envelope.eventId, ageMs }, 'security notice too old to send; skipped');
      return;
    }
    try {
      await this.notifier.send(notice);
    } catch (error) {
      // Nothing the notifier throws is the event's fault: retried until it goes out, never dead-lettered.
      if (error instanceof DomainError) throw new Error(`the notice could not be sent (${error.code}); it will be retried`);
      throw error;
    }
  }
}
