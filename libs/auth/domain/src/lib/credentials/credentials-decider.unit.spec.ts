import { type Aal, type AmrValue, type AuthAttemptKind, type AuthEvent, type AuthEventData } from '@tessera/contracts';
import { deciderSpec } from '@tessera/testing';
import { fold } from '@tessera/event-sourcing';
import { DEFAULT_RESTRICTED_FACTOR_POLICY, type RestrictedFactorPolicy } from '../methods/email-sms/out-of-band-code';
import { type TotpEvidence, type VerificationEvidence } from '../methods/method';
import {
  type BindingAuthorization,
  credentialsDecider,
  type CredentialsCommand,
  type RecoveryPass,
  type RevocationAuthorization,
  STEP_UP_MAX_AGE_MS,
  type StepUp,
} from './credentials-decider';
import { authUserStreamId, highestAvailableLevel } from './credentials-state';

const spec = deciderSpec(credentialsDecider);
type VerificationFailureReason = AuthEventData<'VerificationFailed'>['reason'];

const USER = 'user-7';
const NOW = new Date('2026-03-01T09:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const later = (ms: number) => new Date(NOW.getTime() + ms);
const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const TOTP = id(1);
const KEY = id(2);
const CODES = id(3);
const SMS = id(4);
const PENDING_TOTP = id(5);
const PASSKEY = id(6);
const NEW = id(9);
const PASS = id(20);
const OLD_PASS = id(21);
const RECOVERY = { recoveryId: 'rec-1', passId: PASS };

const stepUp = (level: Aal, ageMs = MINUTE): StepUp => ({ kind: 'step_up', level, authenticatedAt: ago(ageMs) });
const tap = (overrides: Partial<RecoveryPass> = {}): RecoveryPass => ({
  kind: 'recovery_tap',
  recoveryId: 'rec-1',
  recoveryCompleted: true,
  tapExpiresAt: later(HOUR),
  ...overrides,
});

const event = {
  totpEnrolled: (credentialId = TOTP): AuthEvent => ({
    type: 'TotpEnrolled',
    data: { userId: USER, credentialId, name: 'Phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' },
  }),
  totpConfirmed: (credentialId = TOTP, acceptedTimeStep = 100): AuthEvent => ({ type: 'TotpConfirmed', data: { userId: USER, credentialId, acceptedTimeStep } }),
  keyRegistered: (credentialId = KEY, deviceBound = true, signCount = 10): AuthEvent => ({
    type: 'WebAuthnCredentialRegistered',
    data: { userId: USER, credentialId, name: 'Security key', aaguid: 'ee882879-721c-4913-9775-3dfcce97072a', deviceBound, signCount },
  }),
  codesGenerated: (credentialId = CODES, replacedCredentialId: string | null = null): AuthEvent => ({
    type: 'BackupCodesGenerated',
    data: { userId: USER, credentialId, count: 10, replacedCredentialId },
  }),
  codeUsed: (remaining: number): AuthEvent => ({ type: 'BackupCodeUsed', data: { userId: USER, credentialId: CODES, remaining } }),
  smsAdded: (): AuthEvent => ({ type: 'SmsOtpChannelAdded', data: { userId: USER, credentialId: SMS, destinationHint: '•••••••••••89' } }),
  failed: (kind: AuthAttemptKind, at: Date): AuthEvent => ({
    type: 'VerificationFailed',
    data: { userId: USER, credentialId: null, kind, reason: 'no_match', failedAt: at.toISOString() },
  }),
  revoked: (credentialId: string, kind: 'totp' | 'webauthn'): AuthEvent => ({
    type: 'CredentialRevoked',
    data: { userId: USER, credentialId, kind, reason: 'user_removed', referenceId: null },
  }),
  frozen: (incidentId = 'INC-1'): AuthEvent => ({ type: 'CredentialsFrozen', data: { userId: USER, incidentId, reason: 'compromise suspected' } }),
  unfrozen: (incidentId = 'INC-1'): AuthEvent => ({ type: 'CredentialsUnfrozen', data: { userId: USER, incidentId } }),
  throttleReset: (): AuthEvent => ({ type: 'ThrottleReset', data: { userId: USER, reason: 'recovery_completed', referenceId: 'rec-1' } }),
  passConsumed: (passId = PASS, recoveryId = 'rec-1'): AuthEvent => ({ type: 'TemporaryAccessPassConsumed', data: { userId: USER, passId, recoveryId } }),
};

/** `n` failures an hour apart, the last an hour ago: every backoff has elapsed by NOW. */
const failures = (n: number, kind: AuthAttemptKind = 'totp'): AuthEvent[] => Array.from({ length: n }, (_, i) => event.failed(kind, ago((n - i) * HOUR)));

const totpConfirmed = [event.totpEnrolled(), event.totpConfirmed()];

const command = {
  enrollTotp: (authorization: BindingAuthorization, overrides: Partial<Extract<CredentialsCommand, { type: 'EnrollTotp' }>> = {}): CredentialsCommand => ({
    type: 'EnrollTotp',
    userId: USER,
    now: NOW,
    credentialId: NEW,
    name: 'Laptop',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    source: 'generated',
    authorization,
    ...overrides,
  }),
  registerKey: (authorization: BindingAuthorization, deviceBound = true): CredentialsCommand => ({
    type: 'RegisterWebAuthnCredential',
    userId: USER,
    now: NOW,
    credentialId: NEW,
    name: 'Spare key',
    aaguid: '00000000-0000-0000-0000-000000000000',
    deviceBound,
    signCount: 0,
    authorization,
  }),
  generateCodes: (authorization: BindingAuthorization): CredentialsCommand => ({ type: 'GenerateBackupCodes', userId: USER, now: NOW, credentialId: NEW, count: 10, authorization }),
  addSms: (authorization: BindingAuthorization, policy: RestrictedFactorPolicy = DEFAULT_RESTRICTED_FACTOR_POLICY): CredentialsCommand => ({
    type: 'AddOutOfBandChannel',
    userId: USER,
    now: NOW,
    channel: 'sms_otp',
    credentialId: NEW,
    destination: '+4915112345689',
    policy,
    authorization,
  }),
  revoke: (credentialId: string, authorization: RevocationAuthorization): CredentialsCommand => ({ type: 'RevokeCredential', userId: USER, now: NOW, credentialId, authorization }),
  verify: (credentialId: string | null, evidence: VerificationEvidence, policy: RestrictedFactorPolicy = DEFAULT_RESTRICTED_FACTOR_POLICY): CredentialsCommand => ({
    type: 'RecordVerification',
    userId: USER,
    now: NOW,
    credentialId,
    evidence,
    policy,
  }),
};

const totpMatch = (timeStep: number): TotpEvidence => ({ kind: 'totp', outcome: 'match', timeStep });
const totpWrong: VerificationEvidence = { kind: 'totp', outcome: 'no_match' };
const keyMatch = (signCount: number): VerificationEvidence => ({ kind: 'webauthn', outcome: 'match', signCount });

const AMR: Record<'totp' | 'webauthn' | 'backup_codes' | 'sms_otp', AmrValue[]> = {
  totp: ['otp'],
  webauthn: ['pop', 'user', 'mfa', 'hwk'],
  backup_codes: ['otp'],
  sms_otp: ['sms', 'otp'],
};
const succeeded = (credentialId: string, kind: 'totp' | 'webauthn' | 'backup_codes' | 'sms_otp', extra: { timeStep?: number; signCount?: number } = {}): AuthEvent => ({
  type: 'VerificationSucceeded',
  data: {
    userId: USER,
    credentialId,
    kind,
    aal: kind === 'webauthn' ? 3 : 2,
    amr: AMR[kind],
    timeStep: extra.timeStep ?? null,
    signCount: extra.signCount ?? null,
  },
});
const failedNow = (kind: AuthAttemptKind, reason: VerificationFailureReason, credentialId: string | null): AuthEvent => ({
  type: 'VerificationFailed',
  data: { userId: USER, credentialId, kind, reason, failedAt: NOW.toISOString() },
});

describe('credentials decider', () => {
  it('names the stream auth-user-<userId>', () => {
    expect(authUserStreamId(USER)).toBe('auth-user-user-7');
  });

  it('refuses a command for another user than the stream’s (a wiring bug, not a rule)', () => {
    expect(() => credentialsDecider.decide({ ...command.enrollTotp(stepUp(2)), userId: 'someone-else' }, fold(credentialsDecider, totpConfirmed))).toThrow(
      /does not own this stream/,
    );
  });

  describe('when the user has no factor yet', () => {
    it('S21: the first factor binds inside a recent step-up at the only level available (AAL1, the sign-in)', () => {
      spec.given([]).when(command.enrollTotp(stepUp(1))).then([
        {
          type: 'TotpEnrolled',
          data: { userId: USER, credentialId: NEW, name: 'Laptop', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' },
        },
      ]);
    });

    it('S21: a step-up older than 5 minutes is refused', () => {
      spec.given([]).when(command.enrollTotp(stepUp(1, STEP_UP_MAX_AGE_MS + 1))).thenThrows('step_up_stale');
      spec.given([]).when(command.enrollTotp(stepUp(1, STEP_UP_MAX_AGE_MS))).thenEvents();
    });

    it('S21: a step-up dated in the future is refused', () => {
      spec.given([]).when(command.enrollTotp(stepUp(1, -1))).thenThrows('step_up_invalid');
    });

    it('S14: backup codes are issued only inside an AAL2 step-up, even before any factor exists', () => {
      spec.given([]).when(command.generateCodes(stepUp(1))).thenThrows('step_up_insufficient');
    });

    it('S7: an SMS channel is refused when the policy forbids restricted factors', () => {
      spec.given([]).when(command.addSms(stepUp(1), { allowEmailOtp: true, allowSmsOtp: false })).thenThrows('restricted_factor_forbidden');
    });

    it('S7: an SMS channel is added with a masked hint only', () => {
      spec.given([]).when(command.addSms(stepUp(1))).then([
        { type: 'SmsOtpChannelAdded', data: { userId: USER, credentialId: NEW, destinationHint: '•••••••••••89' } },
      ]);
    });

    it('refuses TOTP parameters outside the accepted ranges', () => {
      spec.given([]).when(command.enrollTotp(stepUp(1), { digits: 9 })).thenThrows('invalid_digits');
      spec.given([]).when(command.enrollTotp(stepUp(1), { period: 10 })).thenThrows('invalid_period');
      spec.given([]).when(command.enrollTotp(stepUp(1), { name: '  ' })).thenThrows('invalid_name');
    });

    it('has nothing to verify or revoke', () => {
      spec.given([]).when(command.verify(TOTP, totpMatch(5))).thenThrows('credential_not_found');
      spec.given([]).when(command.revoke(TOTP, stepUp(1))).thenThrows('credential_not_found');
    });
  });

  describe('when a TOTP app is confirmed (highest available level AAL2)', () => {
    it('S21: an AAL1 step-up cannot bind another factor', () => {
      spec.given(totpConfirmed).when(command.registerKey(stepUp(1))).thenThrows('step_up_insufficient');
    });

    it('S21: a recent AAL2 step-up binds a security key', () => {
      spec.given(totpConfirmed).when(command.registerKey(stepUp(2))).then([
        {
          type: 'WebAuthnCredentialRegistered',
          data: { userId: USER, credentialId: NEW, name: 'Spare key', aaguid: '00000000-0000-0000-0000-000000000000', deviceBound: true, signCount: 0 },
        },
      ]);
    });

    it('S21: a valid TAP inside a completed recovery binds a factor without a step-up, naming the recovery and its pass', () => {
      spec.given([...totpConfirmed, event.passConsumed()]).when(command.enrollTotp(tap())).then([
        {
          type: 'TotpEnrolled',
          data: { userId: USER, credentialId: NEW, name: 'Laptop', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated', recovery: RECOVERY },
        },
      ]);
      spec.given([...totpConfirmed, event.passConsumed()]).when(command.registerKey(tap())).then([
        {
          type: 'WebAuthnCredentialRegistered',
          data: { userId: USER, credentialId: NEW, name: 'Spare key', aaguid: '00000000-0000-0000-0000-000000000000', deviceBound: true, signCount: 0, recovery: RECOVERY },
        },
      ]);
    });

    it('S21/S25: a TAP step-up binds nothing unless its recovery’s pass is the one redeemed on this account', () => {
      spec.given(totpConfirmed).when(command.enrollTotp(tap())).thenThrows('tap_not_redeemed');
      spec.given([...totpConfirmed, event.passConsumed(PASS, 'rec-other')]).when(command.enrollTotp(tap())).thenThrows('tap_not_redeemed');
      // A newer pass (another recovery) supersedes the one the old assertion was made with.
      spec.given([...totpConfirmed, event.passConsumed(), event.passConsumed(OLD_PASS, 'rec-2')]).when(command.registerKey(tap())).thenThrows('tap_not_redeemed');
    });

    it('S21: a TOTP app enrolled with a pass names the recovery again when confirmed, the binding a recovery waits for; one enrolled in a step-up does not', () => {
      const confirm = (credentialId: string): CredentialsCommand => ({ type: 'ConfirmTotp', userId: USER, now: NOW, credentialId, evidence: totpMatch(500) });
      const enrolledWithPass: AuthEvent = {
        type: 'TotpEnrolled',
        data: { userId: USER, credentialId: NEW, name: 'Laptop', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated', recovery: RECOVERY },
      };
      spec.given([...totpConfirmed, event.passConsumed(), enrolledWithPass]).when(confirm(NEW)).then([
        { type: 'TotpConfirmed', data: { userId: USER, credentialId: NEW, acceptedTimeStep: 500, recovery: RECOVERY } },
      ]);
      spec.given([...totpConfirmed, event.totpEnrolled(PENDING_TOTP)]).when(confirm(PENDING_TOTP)).then([
        { type: 'TotpConfirmed', data: { userId: USER, credentialId: PENDING_TOTP, acceptedTimeStep: 500 } },
      ]);
    });

    it('S21: a TAP of a recovery that has not completed, or an expired TAP, binds nothing', () => {
      spec.given(totpConfirmed).when(command.enrollTotp(tap({ recoveryCompleted: false }))).thenThrows('recovery_not_completed');
      spec.given(totpConfirmed).when(command.enrollTotp(tap({ tapExpiresAt: NOW }))).thenThrows('tap_expired');
    });

    it('a credential id cannot be reused', () => {
      spec.given(totpConfirmed).when(command.enrollTotp(stepUp(2), { credentialId: TOTP })).thenThrows('credential_exists');
    });

    it('S24: the only factor cannot be removed by the user', () => {
      spec.given(totpConfirmed).when(command.revoke(TOTP, stepUp(2))).thenThrows('last_factor');
    });

    it('S24: inside a recovery the last factor can be revoked', () => {
      spec.given(totpConfirmed).when(command.revoke(TOTP, { kind: 'recovery', recoveryId: 'rec-1' })).then([
        { type: 'CredentialRevoked', data: { userId: USER, credentialId: TOTP, kind: 'totp', reason: 'recovery', referenceId: 'rec-1' } },
      ]);
    });

    it('S24: an unconfirmed TOTP is not a factor: it can go, and it does not save the confirmed one', () => {
      const given = [...totpConfirmed, event.totpEnrolled(PENDING_TOTP)];
      spec.given(given).when(command.revoke(PENDING_TOTP, stepUp(2))).then([
        { type: 'CredentialRevoked', data: { userId: USER, credentialId: PENDING_TOTP, kind: 'totp', reason: 'user_removed', referenceId: null } },
      ]);
      spec.given(given).when(command.revoke(TOTP, stepUp(2))).thenThrows('last_factor');
      spec.given(given).when(command.verify(PENDING_TOTP, totpMatch(200))).thenThrows('credential_not_confirmed');
    });

    it('S1: a newer time step signs in and is recorded as the last accepted step', () => {
      spec.given(totpConfirmed).when(command.verify(TOTP, totpMatch(101))).then([succeeded(TOTP, 'totp', { timeStep: 101 })]);
    });

    it('S1: the step of the confirming code, or of the last sign-in, is replayed and fails', () => {
      spec.given(totpConfirmed).when(command.verify(TOTP, totpMatch(100))).then([failedNow('totp', 'replayed', TOTP)]);
      spec.given([...totpConfirmed, succeeded(TOTP, 'totp', { timeStep: 101 })]).when(command.verify(TOTP, totpMatch(101))).then([failedNow('totp', 'replayed', TOTP)]);
      spec.given([...totpConfirmed, succeeded(TOTP, 'totp', { timeStep: 101 })]).when(command.verify(TOTP, totpMatch(100))).then([failedNow('totp', 'replayed', TOTP)]);
    });

    it('S23: a revoked credential fails verification at once', () => {
      spec.given([...totpConfirmed, event.keyRegistered(), event.revoked(TOTP, 'totp')]).when(command.verify(TOTP, totpMatch(101))).thenThrows('credential_not_found');
    });

    it('a pending TOTP is confirmed by a matching code, whose step is spent; a wrong code confirms nothing', () => {
      const pending = [...totpConfirmed, event.totpEnrolled(PENDING_TOTP)];
      const confirm = (evidence: TotpEvidence, credentialId = PENDING_TOTP): CredentialsCommand => ({
        type: 'ConfirmTotp',
        userId: USER,
        now: NOW,
        credentialId,
        evidence,
      });
      spec.given(pending).when(confirm({ kind: 'totp', outcome: 'match', timeStep: 500 })).then([
        { type: 'TotpConfirmed', data: { userId: USER, credentialId: PENDING_TOTP, acceptedTimeStep: 500 } },
      ]);
      spec.given(pending).when(confirm({ kind: 'totp', outcome: 'no_match' })).thenThrows('totp_code_invalid');
      spec.given(totpConfirmed).when(confirm({ kind: 'totp', outcome: 'match', timeStep: 500 }, TOTP)).thenThrows('already_confirmed');
    });

    it('S17: a credential id of the wrong kind is refused', () => {
      spec.given(totpConfirmed).when(command.verify(TOTP, keyMatch(1))).thenThrows('credential_kind_mismatch');
    });
  });

  describe('when a device-bound security key and a TOTP app are registered (AAL3)', () => {
    const given = [...totpConfirmed, event.keyRegistered()];

    it('S21: the account’s highest available level is that of the key', () => {
      const state = fold(credentialsDecider, given);
      expect(state.status).toBe('active');
      if (state.status === 'active') expect(highestAvailableLevel(state)).toBe(3);
    });

    it('S21: an AAL2 step-up cannot bind a new factor', () => {
      spec.given(given).when(command.enrollTotp(stepUp(2))).thenThrows('step_up_insufficient');
    });

    it('S21: nor remove the stronger key (no downgrade through the weaker factor)', () => {
      spec.given(given).when(command.revoke(KEY, stepUp(2))).thenThrows('step_up_insufficient');
    });

    it('S21/S24: an AAL3 step-up removes the TOTP app, the key remaining', () => {
      spec.given(given).when(command.revoke(TOTP, stepUp(3))).then([
        { type: 'CredentialRevoked', data: { userId: USER, credentialId: TOTP, kind: 'totp', reason: 'user_removed', referenceId: null } },
      ]);
    });

    it('S21: with only a synced passkey the highest level is AAL2', () => {
      spec.given([...totpConfirmed, event.keyRegistered(PASSKEY, false)]).when(command.enrollTotp(stepUp(2))).thenEvents();
    });
  });

  describe('when TOTP and backup codes are registered', () => {
    const given = [...totpConfirmed, event.codesGenerated()];
    const codeMatch: VerificationEvidence = { kind: 'backup_codes', outcome: 'match' };

    it('S24: the TOTP app can be removed, the codes remaining a way in', () => {
      expect(spec.given(given).when(command.revoke(TOTP, stepUp(2))).thenEvents()).toHaveLength(1);
    });

    it('S24: once every code is used the set is no longer a factor', () => {
      spec.given([...given, event.codeUsed(0)]).when(command.revoke(TOTP, stepUp(2))).thenThrows('last_factor');
    });

    it('S13: using a code spends it and tells the user', () => {
      spec.given(given).when(command.verify(CODES, codeMatch)).then([
        succeeded(CODES, 'backup_codes'),
        { type: 'BackupCodeUsed', data: { userId: USER, credentialId: CODES, remaining: 9 } },
      ]);
    });

    it('S13: when 3 or fewer remain the user is told to regenerate', () => {
      spec.given([...given, event.codeUsed(4)]).when(command.verify(CODES, codeMatch)).then([
        succeeded(CODES, 'backup_codes'),
        { type: 'BackupCodeUsed', data: { userId: USER, credentialId: CODES, remaining: 3 } },
        { type: 'BackupCodesLow', data: { userId: USER, credentialId: CODES, remaining: 3, threshold: 3 } },
      ]);
    });

    it('S13: a spent set matches nothing more', () => {
      spec.given([...given, event.codeUsed(0)]).when(command.verify(CODES, codeMatch)).then([failedNow('backup_codes', 'already_used', CODES)]);
    });

    it('S13: the replacement path: inside the step-up the code gave, a new set replaces the old one', () => {
      spec.given([...given, event.codeUsed(3)]).when(command.generateCodes(stepUp(2))).then([
        { type: 'BackupCodesGenerated', data: { userId: USER, credentialId: NEW, count: 10, replacedCredentialId: CODES } },
      ]);
    });
  });

  describe('S19: when a security key has a signature counter of 10', () => {
    const given = [...totpConfirmed, event.keyRegistered(KEY, true, 10)];

    it('S19: a higher counter signs in and is stored', () => {
      spec.given(given).when(command.verify(KEY, keyMatch(11))).then([succeeded(KEY, 'webauthn', { signCount: 11 })]);
      spec.given([...given, succeeded(KEY, 'webauthn', { signCount: 11 })]).when(command.verify(KEY, keyMatch(11))).thenEvents();
    });

    it.each([10, 9, 0])('S19: a counter of %p is refused and raises PossibleClonedAuthenticatorDetected', (presented) => {
      spec.given(given).when(command.verify(KEY, keyMatch(presented))).then([
        failedNow('webauthn', 'counter_not_increasing', KEY),
        { type: 'PossibleClonedAuthenticatorDetected', data: { userId: USER, credentialId: KEY, storedSignCount: 10, presentedSignCount: presented } },
      ]);
    });

    it('S19: the counter stored after a success is the one the next assertion must beat', () => {
      spec.given([...given, succeeded(KEY, 'webauthn', { signCount: 11 })]).when(command.verify(KEY, keyMatch(11))).then([
        failedNow('webauthn', 'counter_not_increasing', KEY),
        { type: 'PossibleClonedAuthenticatorDetected', data: { userId: USER, credentialId: KEY, storedSignCount: 11, presentedSignCount: 11 } },
      ]);
    });

    it('S19: an authenticator without a counter (0 then 0) is accepted', () => {
      spec.given([...totpConfirmed, event.keyRegistered(PASSKEY, true, 0)]).when(command.verify(PASSKEY, keyMatch(0))).then([
        succeeded(PASSKEY, 'webauthn', { signCount: 0 }),
      ]);
    });
  });

  describe('S8: when failures accumulate', () => {
    it('S8/S9: the fifth consecutive failure engages the delays and the user is notified', () => {
      spec.given([...totpConfirmed, ...failures(4)]).when(command.verify(null, totpWrong)).then([
        failedNow('totp', 'no_match', null),
        { type: 'ThrottleEngaged', data: { userId: USER, stage: 'delayed', kind: 'totp', consecutiveFailures: 5, retryAt: later(5_000).toISOString() } },
      ]);
    });

    it('S8: during the wait a guess is not even evaluated', () => {
      const justFailed = [...totpConfirmed, ...failures(4), event.failed('totp', ago(1_000))];
      spec.given(justFailed).when(command.verify(TOTP, totpMatch(101))).thenThrows('throttled');
    });

    it('S8: the 100th consecutive failure locks the account and the user is notified', () => {
      spec.given([...totpConfirmed, ...failures(99)]).when(command.verify(null, totpWrong)).then([
        failedNow('totp', 'no_match', null),
        { type: 'ThrottleEngaged', data: { userId: USER, stage: 'locked', kind: 'totp', consecutiveFailures: 100, retryAt: null } },
      ]);
    });

    it('S8: failures of different factors and TAPs share the one count', () => {
      const mixed = [...failures(33, 'totp'), ...failures(33, 'backup_codes'), ...failures(33, 'tap')];
      spec.given([...totpConfirmed, event.codesGenerated(), ...mixed]).when(command.verify(null, { kind: 'sms_otp', outcome: 'no_match' })).then([
        failedNow('sms_otp', 'no_match', null),
        { type: 'ThrottleEngaged', data: { userId: USER, stage: 'locked', kind: 'sms_otp', consecutiveFailures: 100, retryAt: null } },
      ]);
    });

    it('S9: a failed WebAuthn assertion is recorded but is not a guess', () => {
      spec.given([...totpConfirmed, event.keyRegistered(), ...failures(4)]).when(command.verify(KEY, { kind: 'webauthn', outcome: 'assertion_invalid' })).then([
        failedNow('webauthn', 'assertion_invalid', KEY),
      ]);
    });
  });

  describe('S8/S9: when the account is locked after 100 consecutive failures', () => {
    const locked = [...totpConfirmed, event.keyRegistered(), event.codesGenerated(), event.smsAdded(), ...failures(100)];

    it('S8: the 101st guess is refused even when it is correct', () => {
      spec.given(locked).when(command.verify(TOTP, totpMatch(101))).thenThrows('account_locked');
      spec.given(locked).when(command.verify(CODES, { kind: 'backup_codes', outcome: 'match' })).thenThrows('account_locked');
      spec.given(locked).when(command.verify(SMS, { kind: 'sms_otp', outcome: 'match' })).thenThrows('account_locked');
      spec.given(locked).when(command.verify(null, { kind: 'tap', outcome: 'no_match' })).thenThrows('account_locked');
    });

    it('S9: a passkey sign-in is never blocked, and it lifts the lock (phishing-resistant)', () => {
      spec.given(locked).when(command.verify(KEY, keyMatch(11))).then([
        succeeded(KEY, 'webauthn', { signCount: 11 }),
        { type: 'ThrottleReset', data: { userId: USER, reason: 'phishing_resistant_sign_in', referenceId: KEY } },
      ]);
    });

    it('S8: a completed recovery resets the count', () => {
      const reset: CredentialsCommand = { type: 'ResetThrottle', userId: USER, now: NOW, reason: 'recovery_completed', referenceId: 'rec-1' };
      spec.given(locked).when(reset).then([{ type: 'ThrottleReset', data: { userId: USER, reason: 'recovery_completed', referenceId: 'rec-1' } }]);
    });

    it('S8: an admin unlock resets the count only with an audit reference', () => {
      const unlock = (referenceId: string): CredentialsCommand => ({ type: 'ResetThrottle', userId: USER, now: NOW, reason: 'admin_unlock', referenceId });
      spec.given(locked).when(unlock('SEC-4711')).then([{ type: 'ThrottleReset', data: { userId: USER, reason: 'admin_unlock', referenceId: 'SEC-4711' } }]);
      spec.given(locked).when(unlock(' ')).thenThrows('reference_required');
    });

    it('S8: after a reset a correct code is accepted again', () => {
      spec.given([...locked, event.throttleReset()]).when(command.verify(TOTP, totpMatch(101))).then([succeeded(TOTP, 'totp', { timeStep: 101 })]);
    });

    it('a reset with nothing to reset records nothing', () => {
      spec.given(totpConfirmed).when({ type: 'ResetThrottle', userId: USER, now: NOW, reason: 'recovery_completed', referenceId: 'rec-1' }).then([]);
    });
  });

  describe('S25: when a recovery’s Temporary Access Pass is redeemed', () => {
    const consume = (passId = PASS, recoveryId = 'rec-1'): CredentialsCommand => ({ type: 'ConsumeTemporaryAccessPass', userId: USER, now: NOW, passId, recoveryId });

    it('S25: the redemption is recorded with the pass id and its recovery, never the pass', () => {
      spec.given(totpConfirmed).when(consume()).then([{ type: 'TemporaryAccessPassConsumed', data: { userId: USER, passId: PASS, recoveryId: 'rec-1' } }]);
    });

    it('S25: a pass is recorded as used once', () => {
      spec.given([...totpConfirmed, event.passConsumed()]).when(consume()).thenThrows('tap_already_used');
      spec.given([...totpConfirmed, event.passConsumed(OLD_PASS)]).when(consume()).thenEvents();
    });

    it('S8: a locked account redeems no pass, even a correct one', () => {
      spec.given([...totpConfirmed, ...failures(100)]).when(consume()).thenThrows('account_locked');
    });

    it('a frozen account redeems no pass (no recovery goes on during an incident)', () => {
      spec.given([...totpConfirmed, event.frozen()]).when(consume()).thenThrows('account_frozen');
    });

    it('a pass names its recovery', () => {
      spec.given(totpConfirmed).when(consume(PASS, ' ')).thenThrows('reference_required');
    });
  });

  describe('when the account is frozen for an incident', () => {
    const frozen = [...totpConfirmed, event.keyRegistered(), event.frozen()];

    it('refuses every factor change by the user, even inside a step-up or with a TAP', () => {
      spec.given(frozen).when(command.enrollTotp(stepUp(3))).thenThrows('account_frozen');
      spec.given(frozen).when(command.enrollTotp(tap())).thenThrows('account_frozen');
      spec.given(frozen).when(command.generateCodes(stepUp(3))).thenThrows('account_frozen');
      spec.given(frozen).when(command.revoke(TOTP, stepUp(3))).thenThrows('account_frozen');
      spec.given([...totpConfirmed, event.totpEnrolled(PENDING_TOTP), event.frozen()])
        .when({ type: 'ConfirmTotp', userId: USER, now: NOW, credentialId: PENDING_TOTP, evidence: totpMatch(5) })
        .thenThrows('account_frozen');
    });

    it('refuses recovery revocations (no recoveries while frozen)', () => {
      spec.given(frozen).when(command.revoke(TOTP, { kind: 'recovery', recoveryId: 'rec-1' })).thenThrows('account_frozen');
    });

    it('lets the security team revoke under that incident, even the last factor', () => {
      const lastOnly = [...totpConfirmed, event.frozen()];
      spec.given(lastOnly).when(command.revoke(TOTP, { kind: 'incident', incidentId: 'INC-1' })).then([
        { type: 'CredentialRevoked', data: { userId: USER, credentialId: TOTP, kind: 'totp', reason: 'incident', referenceId: 'INC-1' } },
      ]);
      spec.given(lastOnly).when(command.revoke(TOTP, { kind: 'incident', incidentId: 'INC-2' })).thenThrows('incident_mismatch');
      spec.given(totpConfirmed).when(command.revoke(TOTP, { kind: 'incident', incidentId: 'INC-1' })).thenThrows('incident_mismatch');
    });

    it('keeps verifying sign-ins (the freeze stops changes; sessions are revoked elsewhere)', () => {
      spec.given(frozen).when(command.verify(TOTP, totpMatch(101))).then([succeeded(TOTP, 'totp', { timeStep: 101 })]);
    });

    it('freezing again for the same incident changes nothing; for another it is refused', () => {
      const freeze = (incidentId: string): CredentialsCommand => ({ type: 'FreezeAccount', userId: USER, now: NOW, incidentId, reason: 'again' });
      spec.given(frozen).when(freeze('INC-1')).then([]);
      spec.given(frozen).when(freeze('INC-2')).thenThrows('already_frozen');
    });

    it('is unfrozen only under its own incident, after which factors can change again', () => {
      const unfreeze = (incidentId: string): CredentialsCommand => ({ type: 'UnfreezeAccount', userId: USER, now: NOW, incidentId });
      spec.given(frozen).when(unfreeze('INC-2')).thenThrows('incident_mismatch');
      spec.given(frozen).when(unfreeze('INC-1')).then([{ type: 'CredentialsUnfrozen', data: { userId: USER, incidentId: 'INC-1' } }]);
      spec.given([...frozen, event.unfrozen()]).when(command.enrollTotp(stepUp(3))).thenEvents();
      spec.given(totpConfirmed).when(unfreeze('INC-1')).thenThrows('not_frozen');
    });

    it('an account with no factor can be frozen, which stops an attacker binding the first one', () => {
      spec.given([]).when({ type: 'FreezeAccount', userId: USER, now: NOW, incidentId: 'INC-9', reason: 'compromise suspected' }).then([
        { type: 'CredentialsFrozen', data: { userId: USER, incidentId: 'INC-9', reason: 'compromise suspected' } },
      ]);
      spec.given([event.frozen('INC-9')]).when(command.enrollTotp(stepUp(1))).thenThrows('account_frozen');
    });
  });
});
