import { type AuthAttemptKind, type AuthEvent } from '@tessera/contracts';
import {
  type AccountThrottle,
  assessAccountAttempt,
  assessAddressAttempt,
  assessAttempt,
  backoffDelayMs,
  consecutiveFailures,
  evolveAccountThrottle,
  INITIAL_ACCOUNT_THROTTLE,
  INITIAL_ADDRESS_THROTTLE,
  recordAddressFailure,
  THROTTLE_POLICY,
  throttleEngagement,
} from './throttle';

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const failure = (kind: AuthAttemptKind, at: number): AuthEvent => ({
  type: 'VerificationFailed',
  data: { userId: 'u1', credentialId: null, kind, reason: 'no_match', failedAt: new Date(at).toISOString() },
});
/** `n` failures an hour apart (every backoff has elapsed between them), the last one at `T0`. */
const failures = (n: number, kind: AuthAttemptKind = 'totp'): AuthEvent[] => Array.from({ length: n }, (_, i) => failure(kind, T0 - (n - 1 - i) * HOUR));
const fold = (events: readonly AuthEvent[], from: AccountThrottle = INITIAL_ACCOUNT_THROTTLE) => events.reduce(evolveAccountThrottle, from);
const at = (ms: number) => new Date(T0 + ms);

describe('throttle', () => {
  describe('S8: growing delays well before the cap', () => {
    it('S8: the first four failures cost nothing; from the fifth the account wait doubles from 1 s and stops at 15 min', () => {
      const waits = Array.from({ length: 20 }, (_, i) => backoffDelayMs(i + 1, THROTTLE_POLICY.account));
      expect(waits).toEqual([0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900, 900].map((s) => s * SECOND));
    });

    it('S8: the per-kind wait is steeper: 5 s doubling to 15 min', () => {
      const waits = Array.from({ length: 14 }, (_, i) => backoffDelayMs(i + 1, THROTTLE_POLICY.perKind));
      expect(waits).toEqual([0, 0, 0, 0, 5, 10, 20, 40, 80, 160, 320, 640, 900, 900].map((s) => s * SECOND));
      expect(backoffDelayMs(99, THROTTLE_POLICY.perKind)).toBe(15 * MINUTE);
      expect(backoffDelayMs(10_000, THROTTLE_POLICY.account)).toBe(15 * MINUTE);
    });

    it('S8: after the fifth TOTP failure another TOTP guess waits 5 s, while a backup code waits only the account’s 1 s', () => {
      const throttle = fold(failures(5));
      expect(assessAccountAttempt(throttle, 'totp', at(4_999))).toEqual({ allowed: false, scope: 'factor', reason: 'backoff', retryAt: at(5_000) });
      expect(assessAccountAttempt(throttle, 'totp', at(5_000))).toEqual({ allowed: true });
      expect(assessAccountAttempt(throttle, 'backup_codes', at(999))).toEqual({ allowed: false, scope: 'account', reason: 'backoff', retryAt: at(1_000) });
      expect(assessAccountAttempt(throttle, 'backup_codes', at(1_000))).toEqual({ allowed: true });
    });

    it('S8: guesses spread over factors still face the account wait', () => {
      const kinds: AuthAttemptKind[] = ['totp', 'backup_codes', 'sms_otp', 'email_otp', 'tap', 'totp', 'backup_codes', 'sms_otp', 'email_otp', 'tap'];
      const throttle = fold(kinds.map((kind, i) => failure(kind, T0 - (kinds.length - 1 - i) * HOUR)));
      expect(consecutiveFailures(throttle)).toBe(10);
      expect(assessAccountAttempt(throttle, 'email_otp', at(31_999))).toMatchObject({ allowed: false, scope: 'account', retryAt: at(32_000) });
    });

    it('S8: reaching the cap from one factor takes about 22 hours of waiting', () => {
      let total = 0;
      for (let n = 1; n < THROTTLE_POLICY.accountFailureCap; n++) {
        total += Math.max(backoffDelayMs(n, THROTTLE_POLICY.account), backoffDelayMs(n, THROTTLE_POLICY.perKind));
      }
      expect(total / HOUR).toBeGreaterThan(20);
    });
  });

  describe('S8: the cap of 100 consecutive failures', () => {
    it('S8: after 99 failures a 100th guess is still allowed once the wait has passed', () => {
      expect(assessAccountAttempt(fold(failures(99)), 'totp', at(15 * MINUTE))).toEqual({ allowed: true });
    });

    it('S8: after 100 failures the 101st guess is refused, with no retry time, however long one waits', () => {
      const throttle = fold(failures(100));
      for (const kind of ['totp', 'backup_codes', 'email_otp', 'sms_otp', 'tap'] as const) {
        expect(assessAccountAttempt(throttle, kind, at(365 * 24 * HOUR))).toEqual({ allowed: false, scope: 'account', reason: 'locked', retryAt: null });
      }
    });

    it('S8: the count is a fold of the user’s events, so it survives restarts, instances and addresses alike', () => {
      const events = failures(100);
      expect(fold(events.slice(50), fold(events.slice(0, 50)))).toEqual(fold(events));
    });

    it('S8: a success ends the streak; a reset (recovery, admin unlock, phishing-resistant sign-in) lifts the lock', () => {
      const locked = fold(failures(100));
      expect(evolveAccountThrottle(locked, { type: 'ThrottleReset', data: { userId: 'u1', reason: 'admin_unlock', referenceId: 'SEC-1' } })).toEqual(INITIAL_ACCOUNT_THROTTLE);
      const succeeded: AuthEvent = {
        type: 'VerificationSucceeded',
        data: { userId: 'u1', credentialId: '01900000-0000-7000-8000-000000000001', kind: 'totp', aal: 2, amr: ['otp'], timeStep: 1, signCount: null },
      };
      expect(evolveAccountThrottle(fold(failures(7)), succeeded)).toEqual(INITIAL_ACCOUNT_THROTTLE);
    });

    it('S9: WebAuthn failures are not guesses and do not count', () => {
      expect(consecutiveFailures(fold(failures(3, 'webauthn')))).toBe(0);
    });

    it('S9: notifies when delays begin (5th failure) and when the cap locks (100th), and at no other failure', () => {
      const stages = Array.from({ length: 100 }, (_, i) => [i + 1, throttleEngagement(fold(failures(i + 1)), 'totp', at(0))] as const).filter(([, e]) => e !== null);
      expect(stages).toEqual([
        [5, { stage: 'delayed', retryAt: at(5_000) }],
        [100, { stage: 'locked', retryAt: null }],
      ]);
    });
  });

  describe('S9: throttling never closes every exit', () => {
    it('S9: WebAuthn and the start of a recovery are allowed on a locked account from a blocked address', () => {
      let address = INITIAL_ADDRESS_THROTTLE;
      for (let i = 0; i < 50; i++) address = recordAddressFailure(address, at(i));
      for (const kind of ['webauthn', 'recovery_start'] as const) {
        expect(assessAttempt({ kind, account: fold(failures(100)), address, now: at(100) })).toEqual({ allowed: true });
      }
    });

    it('S9: one address is cut off after 10 failures in 15 minutes — long before any account reaches 100', () => {
      expect(THROTTLE_POLICY.address.maxFailures).toBeLessThanOrEqual(THROTTLE_POLICY.accountFailureCap / 10);
      let address = INITIAL_ADDRESS_THROTTLE;
      for (let i = 0; i < 9; i++) address = recordAddressFailure(address, at(i * MINUTE));
      expect(assessAddressAttempt(address, 'totp', at(9 * MINUTE))).toEqual({ allowed: true });
      address = recordAddressFailure(address, at(9 * MINUTE));
      // A fresh account (no failures of its own) is still refused from this address …
      expect(assessAttempt({ kind: 'totp', account: INITIAL_ACCOUNT_THROTTLE, address, now: at(10 * MINUTE) })).toEqual({
        allowed: false,
        scope: 'address',
        reason: 'address_limit',
        retryAt: at(15 * MINUTE),
      });
      // … until the oldest failure leaves the window.
      expect(assessAddressAttempt(address, 'totp', at(15 * MINUTE))).toEqual({ allowed: true });
    });

    it('S9: the account attacked from that address is still usable from another address', () => {
      let blocked = INITIAL_ADDRESS_THROTTLE;
      for (let i = 9; i >= 0; i--) blocked = recordAddressFailure(blocked, at(-i * SECOND));
      const account = fold(failures(10));
      // Ten failures: the account asks for 32 s, the address for the rest of its 15-minute window.
      expect(assessAttempt({ kind: 'backup_codes', account, address: blocked, now: at(MINUTE) })).toMatchObject({ allowed: false, scope: 'address' });
      expect(assessAttempt({ kind: 'backup_codes', account, address: INITIAL_ADDRESS_THROTTLE, now: at(MINUTE) })).toEqual({ allowed: true });
    });

    it('S9: failures recorded out of order (several instances) still expire oldest first', () => {
      let address = INITIAL_ADDRESS_THROTTLE;
      for (const minute of [5, 1, 9, 3, 7, 2, 8, 4, 6, 0]) address = recordAddressFailure(address, at(minute * MINUTE));
      expect(assessAddressAttempt(address, 'totp', at(10 * MINUTE))).toMatchObject({ allowed: false, retryAt: at(15 * MINUTE) });
    });
  });
});
