import { type AuthAttemptKind, type AuthEvent } from '@tessera/contracts';
import { methodDescriptor } from '../methods/registry';

/**
 * Throttling of guesses (S8, S9; NIST SP 800-63B-4 §3.2.2; RFC 4226 §7.3). Pure rules over two
 * states: the account's, folded from the user's own events so the count holds across sessions,
 * addresses, restarts and instances; and one per client address, short-lived, kept by the caller.
 *
 * Account: at most 100 consecutive failures of guessable factors (TOTP, backup codes, email/SMS codes,
 * TAPs) in total. The 100th failure locks; from then on every guess is refused, even a correct one,
 * until a phishing-resistant sign-in, a completed recovery or an audited admin unlock resets it.
 * Delays grow well before that, after each failure counted from that failure:
 *
 * | consecutive failures | account wait           | wait for the same kind of factor |
 * |----------------------|------------------------|----------------------------------|
 * | 1–4                  | none                   | none                             |
 * | 5, 6, 7 … 12         | 1 s, 2 s, 4 s … 128 s  | 5 s, 10 s, 20 s … 640 s          |
 * | 13, 14               | 256 s, 512 s           | 15 min                           |
 * | 15–99                | 15 min                 | 15 min                           |
 * | 100                  | locked                 | locked                           |
 *
 * The per-kind wait is steeper, so hammering one factor slows fastest while a user who mistyped TOTP
 * five times can still use a backup code after the short account wait. Reaching the cap from a single
 * factor takes about 22 hours (1275 s, then 87 waits of 15 min). Any success ends the streak (that is what "consecutive" means).
 *
 * Address: at most 10 failures per 15-minute window from one client address, whatever the accounts —
 * an address is cut off long before any account reaches its cap. A window, not a streak, because an
 * attacker can reset a streak with successes on an account of their own.
 *
 * Never throttled (S9): WebAuthn, whose assertion cannot be guessed, and the start of a recovery —
 * otherwise an attacker could lock the real user out of every exit.
 */
const SECOND = 1_000;
const MINUTE = 60 * SECOND;

export interface BackoffSchedule {
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const THROTTLE_POLICY = {
  accountFailureCap: 100,
  account: { freeFailures: 4, baseDelayMs: 1 * SECOND, maxDelayMs: 15 * MINUTE },
  perKind: { freeFailures: 4, baseDelayMs: 5 * SECOND, maxDelayMs: 15 * MINUTE },
  address: { windowMs: 15 * MINUTE, maxFailures: 10 },
} as const satisfies {
  accountFailureCap: number;
  account: BackoffSchedule;
  perKind: BackoffSchedule;
  address: { windowMs: number; maxFailures: number };
};

/** What a caller may ask to attempt: a guess at a factor or TAP, a WebAuthn assertion, a recovery start. */
export type ThrottledAttempt = AuthAttemptKind | 'recovery_start';

export type ThrottleDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly scope: 'account' | 'factor' | 'address';
      readonly reason: 'locked' | 'backoff' | 'address_limit';
      /** When to try again; null while locked. */
      readonly retryAt: Date | null;
    };

const ALLOWED: ThrottleDecision = { allowed: true };

export function isGuessable(kind: ThrottledAttempt): boolean {
  if (kind === 'recovery_start') return false;
  return kind === 'tap' || methodDescriptor(kind).guessable;
}

/** Wait required after `failures` consecutive failures: none, then doubling from the base, capped. */
export function backoffDelayMs(failures: number, schedule: BackoffSchedule): number {
  if (failures <= schedule.freeFailures) return 0;
  const doublings = failures - schedule.freeFailures - 1;
  // Past ~30 doublings the cap has long been reached; stop before 2^n stops being exact.
  return doublings >= 30 ? schedule.maxDelayMs : Math.min(schedule.baseDelayMs * 2 ** doublings, schedule.maxDelayMs);
}

// ---- account ------------------------------------------------------------------------------------

export interface FailureStreak {
  readonly failures: number;
  /** Epoch milliseconds of the latest failure. */
  readonly lastFailureAt: number;
}

export interface AccountThrottle {
  readonly streak: FailureStreak | null;
  readonly byKind: Readonly<Partial<Record<AuthAttemptKind, FailureStreak>>>;
}

export const INITIAL_ACCOUNT_THROTTLE: AccountThrottle = { streak: null, byKind: {} };

export function evolveAccountThrottle(throttle: AccountThrottle, event: AuthEvent): AccountThrottle {
  switch (event.type) {
    case 'VerificationFailed': {
      if (!isGuessable(event.data.kind)) return throttle;
      const at = Date.parse(event.data.failedAt);
      return {
        streak: { failures: (throttle.streak?.failures ?? 0) + 1, lastFailureAt: at },
        byKind: { ...throttle.byKind, [event.data.kind]: { failures: (throttle.byKind[event.data.kind]?.failures ?? 0) + 1, lastFailureAt: at } },
      };
    }
    case 'VerificationSucceeded':
    case 'ThrottleReset':
      return INITIAL_ACCOUNT_THROTTLE;
    default:
      return throttle;
  }
}

export function consecutiveFailures(throttle: AccountThrottle): number {
  return throttle.streak?.failures ?? 0;
}

export function isAccountLocked(throttle: AccountThrottle): boolean {
  return consecutiveFailures(throttle) >= THROTTLE_POLICY.accountFailureCap;
}

export function assessAccountAttempt(throttle: AccountThrottle, kind: ThrottledAttempt, now: Date): ThrottleDecision {
  if (!isGuessable(kind) || throttle.streak === null) return ALLOWED;
  if (isAccountLocked(throttle)) return { allowed: false, scope: 'account', reason: 'locked', retryAt: null };
  const accountRetry = throttle.streak.lastFailureAt + backoffDelayMs(throttle.streak.failures, THROTTLE_POLICY.account);
  const kindStreak = kind === 'recovery_start' ? undefined : throttle.byKind[kind];
  const kindRetry = kindStreak === undefined ? 0 : kindStreak.lastFailureAt + backoffDelayMs(kindStreak.failures, THROTTLE_POLICY.perKind);
  const retryAt = Math.max(accountRetry, kindRetry);
  if (now.getTime() >= retryAt) return ALLOWED;
  return { allowed: false, scope: kindRetry > accountRetry ? 'factor' : 'account', reason: 'backoff', retryAt: new Date(retryAt) };
}

/**
 * Whether the failure that produced `after` engaged throttling, for the ThrottleEngaged notification
 * (S9): once when delays begin, once when the cap locks. The per-kind schedule starts no earlier than
 * the account's, and a kind's streak never exceeds the account's, so the account count marks both.
 */
export function throttleEngagement(
  after: AccountThrottle,
  kind: AuthAttemptKind,
  at: Date,
): { readonly stage: 'delayed' | 'locked'; readonly retryAt: Date | null } | null {
  const failures = consecutiveFailures(after);
  if (failures === THROTTLE_POLICY.accountFailureCap) return { stage: 'locked', retryAt: null };
  if (failures === THROTTLE_POLICY.account.freeFailures + 1) {
    const decision = assessAccountAttempt(after, kind, at);
    return { stage: 'delayed', retryAt: decision.allowed ? at : decision.retryAt };
  }
  return null;
}

// ---- client address -----------------------------------------------------------------------------

export interface AddressThrottle {
  /** Epoch milliseconds of the failures still inside the window, oldest first. */
  readonly failures: readonly number[];
}

export const INITIAL_ADDRESS_THROTTLE: AddressThrottle = { failures: [] };

export function recordAddressFailure(throttle: AddressThrottle, now: Date): AddressThrottle {
  // Kept sorted: instances sharing this state may record slightly out of order.
  return { failures: [...insideWindow(throttle, now), now.getTime()].sort((a, b) => a - b) };
}

export function assessAddressAttempt(throttle: AddressThrottle, kind: ThrottledAttempt, now: Date): ThrottleDecision {
  if (!isGuessable(kind)) return ALLOWED;
  const recent = insideWindow(throttle, now);
  if (recent.length < THROTTLE_POLICY.address.maxFailures) return ALLOWED;
  const oldestThatMustExpire = recent[recent.length - THROTTLE_POLICY.address.maxFailures];
  return { allowed: false, scope: 'address', reason: 'address_limit', retryAt: new Date(oldestThatMustExpire + THROTTLE_POLICY.address.windowMs) };
}

/** The gate before any guess is evaluated: the address first (it says nothing about the account). */
export function assessAttempt(input: {
  readonly kind: ThrottledAttempt;
  readonly account: AccountThrottle;
  readonly address: AddressThrottle;
  readonly now: Date;
}): ThrottleDecision {
  const byAddress = assessAddressAttempt(input.address, input.kind, input.now);
  return byAddress.allowed ? assessAccountAttempt(input.account, input.kind, input.now) : byAddress;
}

function insideWindow(throttle: AddressThrottle, now: Date): readonly number[] {
  const from = now.getTime() - THROTTLE_POLICY.address.windowMs;
  return throttle.failures.filter((at) => at > from);
}
