import type { AuthEvent } from '@tessera/contracts';
import { fold } from '@tessera/event-sourcing';
import { credentialsDecider } from './credentials-decider';
import { credentialsSnapshotCodec } from './credentials-snapshot';

const USER = 'user-snap';
const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 9, minute)).toISOString();

/** A history that touches every part of the state: each kind of credential, the throttle, a freeze. */
const history: AuthEvent[] = [
  { type: 'TotpEnrolled', data: { userId: USER, credentialId: id(1), name: 'Phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' } },
  { type: 'TotpConfirmed', data: { userId: USER, credentialId: id(1), acceptedTimeStep: 100 } },
  { type: 'WebAuthnCredentialRegistered', data: { userId: USER, credentialId: id(2), name: 'Key', aaguid: 'ee882879-721c-4913-9775-3dfcce97072a', deviceBound: true, signCount: 3 } },
  { type: 'BackupCodesGenerated', data: { userId: USER, credentialId: id(3), count: 10, replacedCredentialId: null } },
  { type: 'SmsOtpChannelAdded', data: { userId: USER, credentialId: id(4), destinationHint: '•••••••••89' } },
  ...[1, 2, 3, 4, 5, 6].map((minute): AuthEvent => ({ type: 'VerificationFailed', data: { userId: USER, credentialId: null, kind: 'totp', reason: 'no_match', failedAt: at(minute) } })),
  { type: 'VerificationFailed', data: { userId: USER, credentialId: id(3), kind: 'backup_codes', reason: 'no_match', failedAt: at(7) } },
  { type: 'VerificationSucceeded', data: { userId: USER, credentialId: id(2), kind: 'webauthn', aal: 3, amr: ['hwk', 'user', 'pop', 'mfa'] as never, timeStep: null, signCount: 9 } },
  { type: 'BackupCodeUsed', data: { userId: USER, credentialId: id(3), remaining: 9 } },
  { type: 'VerificationFailed', data: { userId: USER, credentialId: null, kind: 'sms_otp', reason: 'expired', failedAt: at(9) } },
  { type: 'CredentialsFrozen', data: { userId: USER, incidentId: 'inc-1', reason: 'suspected compromise' } },
];

describe('credentials snapshot codec', () => {
  it('a snapshot taken at any point, read back from JSON, plus the events after it folds to the same state as the whole history', () => {
    const whole = fold(credentialsDecider, history);
    for (let split = 0; split <= history.length; split++) {
      const stored = JSON.parse(JSON.stringify(credentialsSnapshotCodec.encode(fold(credentialsDecider, history.slice(0, split)))));
      const resumed = history.slice(split).reduce((state, event) => credentialsDecider.evolve(state, event), credentialsSnapshotCodec.decode(stored));
      expect(resumed).toEqual(whole);
    }
    expect(whole).toMatchObject({ status: 'frozen', throttle: { streak: { failures: 1 } } });
  });

  it('refuses a snapshot of another shape, so the stream is folded in full instead', () => {
    const valid = credentialsSnapshotCodec.encode(fold(credentialsDecider, history.slice(0, 5))) as Record<string, unknown>;
    expect(() => credentialsSnapshotCodec.decode({ ...valid, extra: true })).toThrow();
    expect(() => credentialsSnapshotCodec.decode({ ...valid, status: 'locked' })).toThrow();
    expect(() => credentialsSnapshotCodec.decode({ ...valid, credentials: { [id(1)]: { kind: 'totp', id: id(1) } } })).toThrow();
    expect(() => credentialsSnapshotCodec.decode('{}')).toThrow();
  });
});
