import { type AuthEvent, type DeviceEvent, type EventEnvelope, isAuthEventType, isDeviceEventType, parseAuthEvent, parseDeviceEvent } from '@tessera/contracts';
import { type FanOutMessage, renderTemplate } from '@tessera/notifications';

/** A notice owed to a user for a change to their account, ready for `ChannelNotifier.send`. */
export interface AccountNotice {
  readonly userId: string;
  /** The template, for logs. */
  readonly notice: FanOutMessage['templateId'];
  readonly message: FanOutMessage;
}

/** The facts of auth-service and device-registry that are bindings, removals or restores (S22). */
export const NOTIFIED_EVENT_TYPES = [
  'TotpConfirmed',
  'WebAuthnCredentialRegistered',
  'BackupCodesGenerated',
  'EmailOtpChannelAdded',
  'SmsOtpChannelAdded',
  'CredentialRevoked',
  'VaultBackupRestored',
  'DeviceReportedLost',
  'DeviceRevoked',
] as const;

/**
 * The notice an event calls for, or null when it calls for none. Pure: the event id is the notice's
 * idempotency key, so a redelivered event maps to the same key and no receiver gets it twice.
 * Throws when a notified event's data breaks its contract (the consumer dead-letters it, R6).
 *
 * A TOTP factor is bound when it is confirmed (`TotpEnrolled` is a pending secret not yet usable);
 * a vault restore puts authenticator seeds on a device, which for the account is a new binding
 * (DESIGN.md ladder rung 3).
 */
export function accountNoticeOf(envelope: EventEnvelope): AccountNotice | null {
  if (!(NOTIFIED_EVENT_TYPES as readonly string[]).includes(envelope.type)) return null;
  const idempotencyKey = `notice:${envelope.eventId}`;
  const at = envelope.occurredAt;
  if (isAuthEventType(envelope.type)) return authNotice(parseAuthEvent(envelope.type, envelope.data), idempotencyKey, at);
  if (isDeviceEventType(envelope.type)) return deviceNotice(parseDeviceEvent(envelope.type, envelope.data), idempotencyKey);
  return null;
}

function authNotice(event: AuthEvent, idempotencyKey: string, occurredAt: string): AccountNotice | null {
  const bound = (userId: string, factorKind: 'totp' | 'webauthn' | 'backup_codes' | 'email_otp' | 'sms_otp', factorName?: string): AccountNotice => ({
    userId,
    notice: 'factor-bound',
    message: { templateId: 'factor-bound', variables: { factorKind, occurredAt, ...(factorName && showable(factorName) ? { factorName } : {}) }, idempotencyKey, secret: false },
  });
  switch (event.type) {
    case 'TotpConfirmed':
      return bound(event.data.userId, 'totp');
    case 'WebAuthnCredentialRegistered':
      return bound(event.data.userId, 'webauthn', event.data.name);
    case 'BackupCodesGenerated':
      return bound(event.data.userId, 'backup_codes');
    case 'EmailOtpChannelAdded':
      return bound(event.data.userId, 'email_otp');
    case 'SmsOtpChannelAdded':
      return bound(event.data.userId, 'sms_otp');
    case 'CredentialRevoked': {
      const { userId, kind, reason } = event.data;
      return {
        userId,
        notice: 'factor-removed',
        message: { templateId: 'factor-removed', variables: { factorKind: kind, occurredAt, reason }, idempotencyKey, secret: false },
      };
    }
    default:
      return null;
  }
}

function deviceNotice(event: DeviceEvent, idempotencyKey: string): AccountNotice | null {
  switch (event.type) {
    case 'VaultBackupRestored':
      return {
        userId: event.data.userId,
        notice: 'authenticator-restored',
        message: { templateId: 'authenticator-restored', variables: { restoredAt: event.data.restoredAt }, idempotencyKey, secret: false },
      };
    case 'DeviceReportedLost':
      return {
        userId: event.data.userId,
        notice: 'device-reported-lost',
        message: { templateId: 'device-reported-lost', variables: { reason: event.data.reason, reportedAt: event.data.reportedAt }, idempotencyKey, secret: false },
      };
    case 'DeviceRevoked':
      return {
        userId: event.data.userId,
        notice: 'device-revoked',
        message: { templateId: 'device-revoked', variables: { reason: event.data.reason, revokedAt: event.data.revokedAt }, idempotencyKey, secret: false },
      };
    default:
      return null;
  }
}

/**
 * A name the user chose is shown only if the shared template accepts it (no control or bidirectional
 * characters); otherwise the notice goes out without it rather than not at all.
 */
function showable(factorName: string): boolean {
  try {
    renderTemplate('factor-bound', { factorKind: 'webauthn', factorName, occurredAt: new Date(0) }, 'webhook');
    return true;
  } catch {
    return false;
  }
}
