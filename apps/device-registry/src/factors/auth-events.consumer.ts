import { Inject, Injectable } from '@nestjs/common';
import { type AuthEvent, type EventEnvelope, type EventMetadata, isAuthEventType, parseAuthEvent } from '@tessera/contracts';
import { type AaguidCatalog, type DeviceCommand, type RevocationContext, deviceForCredential } from '@tessera/device-domain';
import { DomainError } from '@tessera/event-sourcing';
import { type EventConsumer, PermanentEventError } from '@tessera/event-store';
import { LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import { AAGUID_CATALOG } from '../common/tokens';
import { CredentialFactsRepository } from '../registry/credential-facts.repository';
import { type DeviceCommandResult, DeviceCommands } from '../registry/device-commands';
import { DeviceViewsRepository } from '../registry/device-views.repository';
import { autoDeviceId } from './auto-device-id';

/**
 * "Last used" is kept to the minute for an active device: users read it as "today" or "3 days ago",
 * and recording every verification would grow the user's stream by an event per sign-in. A device
 * reported lost records every use: each one is a security signal (DeviceUsed.whileReportedLost).
 */
const LAST_USE_RESOLUTION_MS = 60_000;

/**
 * auth-service's facts (topic tessera.auth.v1) turned into devices, bound credentials and last use.
 * Runs inside the idempotent consumer's transaction, which also records the event id, so every effect
 * here happens exactly once per event (R1). Contract failures are dead-lettered by the consumer (R6).
 *
 * - A factor bound (`TotpConfirmed`, `WebAuthnCredentialRegistered`) registers the device it lives on,
 *   unless a device already holds it (the user registered it explicitly first).
 * - `CredentialRevoked` unbinds it; a device left with no credential by that has stopped working and
 *   is revoked with the same reason.
 * - `VerificationSucceeded` records the device's last use; a use of a device reported lost is recorded
 *   every time, because it raises `DeviceUsed.whileReportedLost`.
 * - Backup codes and email/SMS channels are kept as facts for readiness and S24; they are not devices.
 * Every change is followed by a readiness re-assessment in the same transaction.
 */
@Injectable()
export class AuthEventsConsumer implements EventConsumer {
  constructor(
    @Inject(CredentialFactsRepository) private readonly facts: CredentialFactsRepository,
    @Inject(DeviceViewsRepository) private readonly views: DeviceViewsRepository,
    @Inject(DeviceCommands) private readonly commands: DeviceCommands,
    @Inject(AAGUID_CATALOG) private readonly catalog: AaguidCatalog,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    if (!isAuthEventType(envelope.type)) return;
    let event: AuthEvent;
    try {
      event = parseAuthEvent(envelope.type, envelope.data);
    } catch (error) {
      throw new PermanentEventError(`invalid ${envelope.type}: ${(error as Error).message}`);
    }
    const at = envelope.occurredAt;
    const metadata: EventMetadata = { actor: envelope.actor, correlationId: envelope.correlationId, causationId: envelope.eventId };
    const userId = event.data.userId;
    if (await this.apply(event, at, metadata, manager)) {
      await this.commands.reassessIn(manager, userId, new Date(at), metadata);
    }
  }

  /** Applies one event; true when the user's factors changed (so readiness may have). */
  private async apply(event: AuthEvent, at: string, metadata: EventMetadata, manager: EntityManager): Promise<boolean> {
    switch (event.type) {
      case 'TotpEnrolled': {
        const { userId, credentialId, name } = event.data;
        await this.facts.upsert(manager, { credentialId, userId, kind: 'totp', status: 'pending', name, aaguid: null, deviceBound: null, remainingCodes: null, at });
        return false;
      }
      case 'TotpConfirmed': {
        const { userId, credentialId } = event.data;
        await this.facts.upsert(manager, { credentialId, userId, kind: 'totp', status: 'active', name: null, aaguid: null, deviceBound: null, remainingCodes: null, at });
        await this.registerDeviceFor(manager, userId, credentialId, at, metadata);
        return true;
      }
      case 'WebAuthnCredentialRegistered': {
        const { userId, credentialId, name, aaguid, deviceBound } = event.data;
        await this.facts.upsert(manager, { credentialId, userId, kind: 'webauthn', status: 'active', name, aaguid, deviceBound, remainingCodes: null, at });
        await this.registerDeviceFor(manager, userId, credentialId, at, metadata);
        return true;
      }
      case 'BackupCodesGenerated': {
        const { userId, credentialId, count, replacedCredentialId } = event.data;
        if (replacedCredentialId) await this.facts.markRevoked(manager, userId, replacedCredentialId, at);
        await this.facts.upsert(manager, { credentialId, userId, kind: 'backup_codes', status: 'active', name: null, aaguid: null, deviceBound: null, remainingCodes: count, at });
        return true;
      }
      case 'BackupCodeUsed':
        await this.facts.setRemainingCodes(manager, event.data.userId, event.data.credentialId, event.data.remaining, at);
        await this.facts.recordUse(manager, event.data.userId, event.data.credentialId, at);
        return true;
      case 'EmailOtpChannelAdded':
      case 'SmsOtpChannelAdded': {
        const { userId, credentialId, destinationHint } = event.data;
        const kind = event.type === 'EmailOtpChannelAdded' ? 'email_otp' : 'sms_otp';
        await this.facts.upsert(manager, { credentialId, userId, kind, status: 'active', name: destinationHint, aaguid: null, deviceBound: null, remainingCodes: null, at });
        return true;
      }
      case 'CredentialRevoked': {
        const { userId, credentialId, reason, referenceId } = event.data;
        await this.facts.markRevoked(manager, userId, credentialId, at);
        const device = await this.views.deviceOfCredential(credentialId, manager);
        if (!device || device.userId !== userId || device.status === 'revoked') return true;
        const unbound = await this.run(manager, { type: 'UnbindCredential', data: { userId, credentialId }, metadata: { now: new Date(at) } }, metadata);
        const after = unbound?.state.status === 'tracked' ? unbound.state.devices[device.deviceId] : undefined;
        if (after && after.status !== 'revoked' && after.credentials.length === 0) {
          // Its last credential is gone, so the device no longer signs anyone in: it is revoked too, for
          // the same reason (auth-service's recovery and incident revocations always name their reference).
          const context: RevocationContext =
            reason === 'recovery' && referenceId ? { kind: 'recovery', recoveryId: referenceId }
            : reason === 'incident' && referenceId ? { kind: 'incident', incidentId: referenceId }
            : { kind: 'self_service' };
          await this.run(
            manager,
            { type: 'RevokeDevice', data: { userId, deviceId: device.deviceId, context, usableFactorsOutsideDevices: 0 }, metadata: { now: new Date(at) } },
            metadata,
          );
        }
        return true;
      }
      case 'VerificationSucceeded': {
        const { userId, credentialId } = event.data;
        await this.facts.recordUse(manager, userId, credentialId, at);
        const device = await this.views.deviceOfCredential(credentialId, manager);
        if (!device || device.userId !== userId || device.status === 'revoked') return false;
        const recent = device.lastUsedAt !== null && Date.parse(at) - Date.parse(device.lastUsedAt) < LAST_USE_RESOLUTION_MS;
        if (device.status === 'active' && recent) return false;
        await this.run(manager, { type: 'RecordDeviceUse', data: { userId, deviceId: device.deviceId, credentialId, usedAt: new Date(at) }, metadata: { now: new Date(at) } }, metadata);
        return false;
      }
      default:
        // Throttling, freezes and failures say nothing about devices.
        return false;
    }
  }

  private async registerDeviceFor(manager: EntityManager, userId: string, credentialId: string, at: string, metadata: EventMetadata): Promise<void> {
    if (await this.views.deviceOfCredential(credentialId, manager)) return;
    const fact = await this.facts.get(credentialId, manager);
    if (!fact || fact.userId !== userId) return;
    const device = deviceForCredential(fact, this.catalog);
    if (!device) return;
    await this.run(
      manager,
      {
        type: 'RegisterDevice',
        data: {
          userId,
          deviceId: autoDeviceId(credentialId),
          kind: device.kind,
          name: device.name,
          credentials: [{ credentialId, factor: device.factor }],
          aaguid: device.aaguid,
        },
        metadata: { now: new Date(at) },
      },
      metadata,
    );
  }

  /**
   * A refusal by the decider here is a fact about the stream (a device was revoked meanwhile, the
   * user already has the most devices allowed), not a broken message: it is logged and the event is
   * done. Anything else propagates, so the message is retried or dead-lettered by the consumer.
   */
  private async run(manager: EntityManager, command: DeviceCommand, metadata: EventMetadata): Promise<DeviceCommandResult | null> {
    try {
      return await this.commands.executeIn(manager, command, metadata);
    } catch (error) {
      if (!(error instanceof DomainError) || error.code === 'concurrent_modification') throw error;
      this.logger.info({ userId: command.data.userId, command: command.type, refusal: error.code }, 'auth event left the devices unchanged');
      return null;
    }
  }
}
