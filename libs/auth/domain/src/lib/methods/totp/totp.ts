import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { TOTP_ALGORITHMS, TOTP_LIMITS, type TotpAlgorithm } from '@tessera/contracts';
import { Secret, TOTP } from 'otpauth';
import { DomainError } from '@tessera/event-sourcing';
import { drawBytes, type RandomSource } from '../../crypto/random';
import { type AuthMethod, type MethodDescriptor, type TotpEvidence, type VerificationResult } from '../method';
import { isNumericCode, normalizeNumericCode } from '../numeric-code';

export const TOTP_DESCRIPTOR: MethodDescriptor<'totp'> = {
  id: 'totp',
  // A single-factor OTP device: AAL2 with the password (63B-4 §3.1.4).
  aal: 2,
  amr: ['otp'],
  guessable: true,
  restricted: false,
  phishingResistant: false,
};

export interface TotpParameters {
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  readonly period: number;
}

export interface TotpSeed extends TotpParameters {
  readonly secret: Uint8Array;
}

/** What authenticator apps expect when nothing else is said (RFC 6238 §4, §5.2). */
export const TOTP_DEFAULTS: TotpParameters = { algorithm: 'SHA1', digits: 6, period: 30 };

/**
 * RFC 4226 §4 R6 requires a shared secret of at least 128 bits and recommends 160; S4 (and 63B-4
 * §3.1.4.1) makes 160 bits the floor, for generated and imported seeds alike.
 */
export const TOTP_MIN_SECRET_BYTES = 20;

/** The key sizes of RFC 6238's reference code: one HMAC output length per hash (20, 32, 64 bytes). */
export const TOTP_SECRET_BYTES: Readonly<Record<TotpAlgorithm, number>> = { SHA1: 20, SHA256: 32, SHA512: 64 };

/**
 * S3: codes of the previous and the next time step are accepted besides the current one — RFC 6238
 * §5.2 recommends at most one step of allowance for network delay and clock drift. A wider window lets
 * an observed code live longer. The time is always the server's.
 */
export const TOTP_WINDOW = 1;

export function assertTotpParameters(params: TotpParameters): void {
  if (!(TOTP_ALGORITHMS as readonly string[]).includes(params.algorithm)) {
    throw new DomainError('unsupported_algorithm', `TOTP algorithm must be one of ${TOTP_ALGORITHMS.join(', ')}`, 'invalid');
  }
  if (!Number.isInteger(params.digits) || params.digits < TOTP_LIMITS.minDigits || params.digits > TOTP_LIMITS.maxDigits) {
    throw new DomainError('invalid_digits', `TOTP digits must be ${TOTP_LIMITS.minDigits}–${TOTP_LIMITS.maxDigits}`, 'invalid');
  }
  if (!Number.isInteger(params.period) || params.period < TOTP_LIMITS.minPeriodSeconds || params.period > TOTP_LIMITS.maxPeriodSeconds) {
    throw new DomainError(
      'invalid_period',
      `TOTP period must be ${TOTP_LIMITS.minPeriodSeconds}–${TOTP_LIMITS.maxPeriodSeconds} seconds`,
      'invalid',
    );
  }
}

export function assertTotpSecretLength(secret: Uint8Array): void {
  if (secret.byteLength < TOTP_MIN_SECRET_BYTES) {
    throw new DomainError('seed_too_short', `a TOTP seed needs at least ${TOTP_MIN_SECRET_BYTES * 8} bits (S4)`, 'invalid');
  }
}

/** A new seed from the injected CSPRNG (S4): the HMAC output size of the algorithm, never under 160 bits. */
export function generateTotpSecret(random: RandomSource, algorithm: TotpAlgorithm = TOTP_DEFAULTS.algorithm): Uint8Array {
  return drawBytes(random, Math.max(TOTP_SECRET_BYTES[algorithm], TOTP_MIN_SECRET_BYTES));
}

/** RFC 6238 §4.2: T = floor((now − T0) / X) with T0 = 0; seconds, so 64-bit-safe up to 2^53 ms. */
export function totpTimeStep(now: Date, period: number): number {
  return Math.floor(now.getTime() / 1000 / period);
}

/** The code of the given time, e.g. for tests and for an app-side preview; servers only verify. */
export function generateTotpCode(seed: TotpSeed, now: Date): string {
  return TOTP.generate({ ...otpauthParams(seed), timestamp: now.getTime() });
}

const HMAC_NAMES: Readonly<Record<TotpAlgorithm, string>> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

/** The order the window is searched in: the current step, then the previous, then the next. */
const WINDOW_STEPS = [0, ...Array.from({ length: TOTP_WINDOW }, (_, i) => [-(i + 1), i + 1]).flat()];

/**
 * HOTP (RFC 4226 §5.3): HMAC of the 8-byte big-endian counter, dynamic truncation (§5.4) to 31 bits,
 * the last `digits` decimal digits. The counter is a time step here (RFC 6238 §4.2); steps past 2^32
 * (the 20000000000 vector) need the 64-bit write.
 */
function hotp(key: KeyObject, algorithm: TotpAlgorithm, counter: number, digits: number): Buffer {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(HMAC_NAMES[algorithm], key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return Buffer.from(String(binary % 10 ** digits).padStart(digits, '0'));
}

/**
 * Checks a code against one seed at server time `now`, within ±`TOTP_WINDOW` steps, and returns the
 * time step that matched (the current one first, then the previous, then the next).
 *
 * HOTP is computed here rather than through otpauth's `validate`: the seed becomes a KeyObject once and
 * the window's three HMACs use it, where otpauth hands a raw buffer to every HMAC — which Node 24 makes
 * several times slower, on the hot path of every sign-in. `generateTotpCode` still uses otpauth, so the
 * tests hold one implementation to the other as well as to the RFC vectors.
 */
export function verifyTotpCode(seed: TotpSeed, input: string, now: Date): TotpEvidence {
  const code = normalizeNumericCode(input);
  if (!isNumericCode(code, seed.digits)) return { kind: 'totp', outcome: 'malformed' };
  const key = createSecretKey(seed.secret);
  const presented = Buffer.from(code);
  const step = totpTimeStep(now, seed.period);
  // S2: the offset of the matching step, where 0 — the current step — is a match although falsy: only
  // null means "no match".
  let delta: number | null = null;
  for (const offset of WINDOW_STEPS) {
    if (step + offset < 0) continue;
    // S6: every candidate of the window is compared, in constant time, whether or not one matched already.
    const equal = timingSafeEqual(hotp(key, seed.algorithm, step + offset, seed.digits), presented);
    if (equal && delta === null) delta = offset;
  }
  if (delta === null) return { kind: 'totp', outcome: 'no_match' };
  return { kind: 'totp', outcome: 'match', timeStep: step + delta };
}

export type TimeStepDecision = { readonly accepted: true; readonly store: number } | { readonly accepted: false };

/**
 * S1 (RFC 6238 §5.2; 63B-4 §3.1.5.2): a code is accepted at most once. Only a step later than the last
 * accepted one passes, and that step is what gets stored — through a conditional write, so of parallel
 * submissions only one advances it. This also refuses an older code of the window once a newer one
 * was used.
 */
export function acceptTimeStep(matchedStep: number, lastAcceptedStep: number | null): TimeStepDecision {
  return lastAcceptedStep === null || matchedStep > lastAcceptedStep ? { accepted: true, store: matchedStep } : { accepted: false };
}

export interface TotpStored {
  readonly seed: TotpSeed;
  readonly lastAcceptedStep: number | null;
}

export function createTotpMethod(): AuthMethod<'totp', TotpStored, { readonly code: string }> {
  return {
    descriptor: TOTP_DESCRIPTOR,
    async verify(stored, attempt, now): Promise<VerificationResult<TotpEvidence>> {
      const evidence = verifyTotpCode(stored.seed, attempt.code, now);
      if (evidence.outcome !== 'match') return { evidence, commit: null };
      const decision = acceptTimeStep(evidence.timeStep, stored.lastAcceptedStep);
      if (!decision.accepted) return { evidence: { kind: 'totp', outcome: 'replayed' }, commit: null };
      return { evidence, commit: { kind: 'advance_time_step', to: decision.store } };
    },
  };
}

function otpauthParams(seed: TotpSeed) {
  // Copy: otpauth keeps the buffer, and a Uint8Array may be a view into a larger pooled one.
  return { secret: new Secret({ buffer: Uint8Array.from(seed.secret).buffer }), algorithm: seed.algorithm, digits: seed.digits, period: seed.period };
}
