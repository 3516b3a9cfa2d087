import { AUTH_EVENT_SCHEMAS, AUTH_EVENT_TYPES, type AuthEventData, type AuthEventType, parseAuthEvent } from './events';

const userId = 'user-1';
const credentialId = '01900000-0000-7000-8000-000000000001';
const at = '2026-03-01T09:00:00.000Z';
const passId = '01900000-0000-7000-8000-0000000000aa';
const recovery = { recoveryId: 'rec-1', passId };

/** One valid `data` per type; the mapped type makes a missing type a compile error. */
const SAMPLES: { [T in AuthEventType]: AuthEventData<T> } = {
  TotpEnrolled: { userId, credentialId, name: 'Phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' },
  TotpConfirmed: { userId, credentialId, acceptedTimeStep: 58_000_000 },
  WebAuthnCredentialRegistered: { userId, credentialId, name: 'Key', aaguid: '00000000-0000-0000-0000-000000000000', deviceBound: true, signCount: 0 },
  BackupCodesGenerated: { userId, credentialId, count: 10, replacedCredentialId: null },
  BackupCodeUsed: { userId, credentialId, remaining: 9 },
  BackupCodesLow: { userId, credentialId, remaining: 3, threshold: 3 },
  EmailOtpChannelAdded: { userId, credentialId, destinationHint: 'a•••@example.com' },
  SmsOtpChannelAdded: { userId, credentialId, destinationHint: '•••••••89' },
  CredentialRevoked: { userId, credentialId, kind: 'totp', reason: 'user_removed', referenceId: null },
  VerificationSucceeded: { userId, credentialId, kind: 'webauthn', aal: 3, amr: ['pop', 'hwk'], timeStep: null, signCount: 12 },
  VerificationFailed: { userId, credentialId: null, kind: 'tap', reason: 'no_match', failedAt: at },
  ThrottleEngaged: { userId, stage: 'locked', kind: 'totp', consecutiveFailures: 100, retryAt: null },
  ThrottleReset: { userId, reason: 'admin_unlock', referenceId: 'SEC-1' },
  PossibleClonedAuthenticatorDetected: { userId, credentialId, storedSignCount: 12, presentedSignCount: 12 },
  TemporaryAccessPassConsumed: { userId, passId, recoveryId: 'rec-1' },
  CredentialsFrozen: { userId, incidentId: 'INC-1', reason: 'compromise suspected' },
  CredentialsUnfrozen: { userId, incidentId: 'INC-1' },
};

describe('auth integration events', () => {
  it.each(AUTH_EVENT_TYPES)('%s: a valid sample parses', (type) => {
    expect(AUTH_EVENT_SCHEMAS[type].parse(SAMPLES[type])).toEqual(SAMPLES[type]);
  });

  it.each(AUTH_EVENT_TYPES)('%s: data without userId is refused (the Kafka key)', (type) => {
    const { userId: _omitted, ...rest } = SAMPLES[type];
    expect(AUTH_EVENT_SCHEMAS[type].safeParse(rest).success).toBe(false);
  });

  it.each(AUTH_EVENT_TYPES)('S29: %s refuses any extra field, so a secret cannot ride along', (type) => {
    expect(AUTH_EVENT_SCHEMAS[type].safeParse({ ...SAMPLES[type], secret: 'JBSWY3DPEHPK3PXP' }).success).toBe(false);
  });

  it('refuses values outside the contract', () => {
    expect(AUTH_EVENT_SCHEMAS.TotpEnrolled.safeParse({ ...SAMPLES.TotpEnrolled, digits: 9 }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.TotpEnrolled.safeParse({ ...SAMPLES.TotpEnrolled, algorithm: 'MD5' }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.VerificationSucceeded.safeParse({ ...SAMPLES.VerificationSucceeded, amr: ['password'] }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.BackupCodeUsed.safeParse({ ...SAMPLES.BackupCodeUsed, credentialId: 'not-a-uuid' }).success).toBe(false);
  });

  it('S21: a binding may name the recovery and pass it was made under; the three binding events agree on the shape', () => {
    expect(AUTH_EVENT_SCHEMAS.TotpEnrolled.parse({ ...SAMPLES.TotpEnrolled, recovery })).toEqual({ ...SAMPLES.TotpEnrolled, recovery });
    expect(AUTH_EVENT_SCHEMAS.TotpConfirmed.parse({ ...SAMPLES.TotpConfirmed, recovery })).toEqual({ ...SAMPLES.TotpConfirmed, recovery });
    expect(AUTH_EVENT_SCHEMAS.WebAuthnCredentialRegistered.parse({ ...SAMPLES.WebAuthnCredentialRegistered, recovery })).toEqual({ ...SAMPLES.WebAuthnCredentialRegistered, recovery });
    // Bindings recorded before the field existed stay valid.
    expect(AUTH_EVENT_SCHEMAS.TotpConfirmed.safeParse(SAMPLES.TotpConfirmed).success).toBe(true);
  });

  it('S29/S32: a recovery fact carries the pass id, never anything else: no extra field, no non-UUID pass id', () => {
    const ten = '4711081542';
    expect(AUTH_EVENT_SCHEMAS.TemporaryAccessPassConsumed.safeParse({ ...SAMPLES.TemporaryAccessPassConsumed, pass: ten }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.TemporaryAccessPassConsumed.safeParse({ ...SAMPLES.TemporaryAccessPassConsumed, passId: ten }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.TemporaryAccessPassConsumed.safeParse({ ...SAMPLES.TemporaryAccessPassConsumed, recoveryId: '' }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.TotpConfirmed.safeParse({ ...SAMPLES.TotpConfirmed, recovery: { ...recovery, pass: ten } }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.TotpConfirmed.safeParse({ ...SAMPLES.TotpConfirmed, recovery: { recoveryId: 'rec-1', passId: ten } }).success).toBe(false);
    expect(AUTH_EVENT_SCHEMAS.WebAuthnCredentialRegistered.safeParse({ ...SAMPLES.WebAuthnCredentialRegistered, recovery: { recoveryId: 'rec-1' } }).success).toBe(false);
  });

  it('parseAuthEvent validates by type and refuses unknown types', () => {
    expect(parseAuthEvent('BackupCodeUsed', SAMPLES.BackupCodeUsed)).toEqual({ type: 'BackupCodeUsed', data: SAMPLES.BackupCodeUsed });
    expect(() => parseAuthEvent('BackupCodeStolen', SAMPLES.BackupCodeUsed)).toThrow(/unknown auth event type/);
    expect(() => parseAuthEvent('toString', {})).toThrow(/unknown auth event type/);
    expect(() => parseAuthEvent('BackupCodeUsed', { ...SAMPLES.BackupCodeUsed, remaining: -1 })).toThrow();
  });
});
