import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@tessera/contracts';
import { renderTemplate } from '@tessera/notifications';
import { accountNoticeOf, NOTIFIED_EVENT_TYPES } from './account-notices';

const USER = 'user-7@example.org';
const CREDENTIAL = '01900000-0000-7000-8000-000000000001';
const DEVICE = '01900000-0000-7000-8000-000000000002';
const AT = '2026-03-01T09:00:00.000Z';

function envelope(type: string, data: Record<string, unknown>): EventEnvelope {
  return { eventId: randomUUID(), type, version: 1, streamId: `stream-${USER}`, occurredAt: AT, actor: { kind: 'user', id: USER }, correlationId: 'c-1', causationId: null, data };
}

/** One valid event of every type that calls for a notice, and the template it must get. */
const CASES: readonly [string, Record<string, unknown>, string][] = [
  ['TotpConfirmed', { userId: USER, credentialId: CREDENTIAL, acceptedTimeStep: 5 }, 'factor-bound'],
  ['WebAuthnCredentialRegistered', { userId: USER, credentialId: CREDENTIAL, name: 'YubiKey 5C', aaguid: '00000000-0000-0000-0000-000000000000', deviceBound: true, signCount: 0 }, 'factor-bound'],
  ['BackupCodesGenerated', { userId: USER, credentialId: CREDENTIAL, count: 10, replacedCredentialId: null }, 'factor-bound'],
  ['EmailOtpChannelAdded', { userId: USER, credentialId: CREDENTIAL, destinationHint: 'a•••@example.org' }, 'factor-bound'],
  ['SmsOtpChannelAdded', { userId: USER, credentialId: CREDENTIAL, destinationHint: '•••••••89' }, 'factor-bound'],
  ['CredentialRevoked', { userId: USER, credentialId: CREDENTIAL, kind: 'totp', reason: 'user_removed', referenceId: null }, 'factor-removed'],
  ['VaultBackupRestored', { userId: USER, backupId: CREDENTIAL, deviceId: DEVICE, restoredAt: AT }, 'authenticator-restored'],
  ['DeviceReportedLost', { userId: USER, deviceId: DEVICE, reason: 'stolen', reportedAt: AT }, 'device-reported-lost'],
  ['DeviceRevoked', { userId: USER, deviceId: DEVICE, reason: 'user_removed', referenceId: null, credentialIds: [CREDENTIAL], revokedAt: AT }, 'device-revoked'],
];

describe('account notices from auth-service and device-registry events (S22)', () => {
  it('covers every notified event type', () => {
    expect(CASES.map(([type]) => type).sort()).toEqual([...NOTIFIED_EVENT_TYPES].sort());
  });

  it.each(CASES)('S22: %s gives a notice that renders on every channel, keyed by the event id', (type, data, templateId) => {
    const event = envelope(type, data);
    const notice = accountNoticeOf(event);
    expect(notice).toMatchObject({ userId: USER, notice: templateId, message: { templateId, idempotencyKey: `notice:${event.eventId}`, secret: false } });
    for (const channel of ['email', 'sms', 'webhook'] as const) {
      const rendered = renderTemplate(notice!.message.templateId, notice!.message.variables, channel);
      expect(rendered.text).toContain('2026-03-01 09:00 UTC');
      // S29/S30: nothing of the event but its facts: no credential or device id, no hint of an address.
      expect(rendered.text).not.toContain(CREDENTIAL);
      expect(rendered.text).not.toContain(DEVICE);
      expect(rendered.text).not.toContain('example.org');
    }
  });

  it('S22: a redelivered event gives the same idempotency key (receivers and the delivery ledger drop the second)', () => {
    const event = envelope('TotpConfirmed', CASES[0][1]);
    expect(accountNoticeOf(event)?.message.idempotencyKey).toBe(accountNoticeOf({ ...event })?.message.idempotencyKey);
  });

  it('S22: a removal says who removed it', () => {
    const byRecovery = accountNoticeOf(envelope('CredentialRevoked', { userId: USER, credentialId: CREDENTIAL, kind: 'email_otp', reason: 'recovery', referenceId: 'rec-1' }));
    expect(byRecovery?.message.variables).toEqual({ factorKind: 'email_otp', occurredAt: AT, reason: 'recovery' });
  });

  it('shows a key name the templates accept, and leaves out one they refuse rather than dropping the notice', () => {
    const named = accountNoticeOf(envelope('WebAuthnCredentialRegistered', CASES[1][1]));
    expect(named?.message.variables).toMatchObject({ factorName: 'YubiKey 5C' });
    const disguised = accountNoticeOf(envelope('WebAuthnCredentialRegistered', { ...CASES[1][1], name: 'Key\u202Eevil' }));
    expect(disguised?.message.variables).not.toHaveProperty('factorName');
  });

  it('gives no notice for events that are neither bindings, removals nor restores', () => {
    expect(accountNoticeOf(envelope('TotpEnrolled', { userId: USER, credentialId: CREDENTIAL, name: 'phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' }))).toBeNull();
    expect(accountNoticeOf(envelope('VerificationSucceeded', { userId: USER }))).toBeNull();
    expect(accountNoticeOf(envelope('RecoveryRequested', { anything: true }))).toBeNull();
  });

  it('R6: throws on a notified event whose data breaks its contract (the consumer dead-letters it)', () => {
    expect(() => accountNoticeOf(envelope('TotpConfirmed', { userId: USER, credentialId: 'not-a-uuid', acceptedTimeStep: 1 }))).toThrow();
    expect(() => accountNoticeOf(envelope('DeviceRevoked', { userId: USER, seed: 'JBSWY3DPEHPK3PXP' }))).toThrow();
  });
});
