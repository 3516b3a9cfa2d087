import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '@tessera/crypto';
import { DomainError } from '@tessera/event-sourcing';
import { drawBytes, type RandomSource } from '../../crypto/random';
import {
  type AuthMethod,
  type MethodDescriptor,
  type OutOfBandChannel,
  type OutOfBandEvidence,
  type VerificationResult,
} from '../method';
import { generateNumericCode, isNumericCode, normalizeNumericCode } from '../numeric-code';

/**
 * Codes sent by email or SMS: restricted factors (S7). SMS goes over the PSTN, which 63B-4 marks
 * "restricted" (§3.1.3.3): allowed only with the user offered an alternative and a policy able to turn
 * it off. Email proves no device possession, so 63B-4 does not accept it as an out-of-band authenticator
 * (§3.1.3.1); Tessera keeps it for low assurance and recovery addresses, at AAL1, restricted as well.
 */
export const EMAIL_OTP_DESCRIPTOR: MethodDescriptor<'email_otp'> = {
  id: 'email_otp',
  aal: 1,
  amr: ['otp'],
  guessable: true,
  restricted: true,
  phishingResistant: false,
};

export const SMS_OTP_DESCRIPTOR: MethodDescriptor<'sms_otp'> = {
  id: 'sms_otp',
  aal: 2,
  amr: ['sms', 'otp'],
  guessable: true,
  restricted: true,
  phishingResistant: false,
};

const MINUTE = 60_000;

/**
 * Lifetimes (S7): an SMS code lives at most 10 minutes (63B-4 out-of-band secrets); an email code at
 * most 24 hours, the ceiling 63B-4 §4.2.1 sets for recovery codes sent to an address. Sign-in codes use
 * the short defaults; only a caller that needs longer (a recovery email) asks for more.
 */
export const OUT_OF_BAND_TTL: Readonly<Record<OutOfBandChannel, { readonly defaultMs: number; readonly maxMs: number }>> = {
  sms_otp: { defaultMs: 5 * MINUTE, maxMs: 10 * MINUTE },
  email_otp: { defaultMs: 10 * MINUTE, maxMs: 24 * 60 * MINUTE },
};

/** At least 6 digits (≈ 20 bits): enough only because guesses are capped (S8) and codes expire. */
export const OUT_OF_BAND_CODE_DIGITS = { min: 6, max: 10, default: 6 } as const;

/** The policy switch S7 asks for. A group with stronger needs turns these factors off. */
export interface RestrictedFactorPolicy {
  readonly allowEmailOtp: boolean;
  readonly allowSmsOtp: boolean;
}

export const DEFAULT_RESTRICTED_FACTOR_POLICY: RestrictedFactorPolicy = { allowEmailOtp: true, allowSmsOtp: true };

export function isRestrictedFactorAllowed(policy: RestrictedFactorPolicy, channel: OutOfBandChannel): boolean {
  return channel === 'email_otp' ? policy.allowEmailOtp : policy.allowSmsOtp;
}

/** A secret key (≥ 256 bits) held outside the database, e.g. from the KMS; see `hashCode`. */
export const OUT_OF_BAND_PEPPER_MIN_BYTES = 32;

/** What is stored for an issued code: never the code itself. */
export interface IssuedOutOfBandCode {
  readonly channel: OutOfBandChannel;
  readonly digits: number;
  readonly salt: Uint8Array;
  readonly mac: Uint8Array;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly consumedAt: Date | null;
}

export interface IssueOutOfBandCode {
  readonly channel: OutOfBandChannel;
  readonly policy: RestrictedFactorPolicy;
  readonly now: Date;
  readonly ttlMs?: number;
  readonly digits?: number;
}

export function issueOutOfBandCode(
  request: IssueOutOfBandCode,
  deps: { readonly random: RandomSource; readonly pepper: Uint8Array },
): { readonly code: string; readonly record: IssuedOutOfBandCode } {
  assertRestrictedFactorAllowed(request.policy, request.channel);
  const ttlMs = request.ttlMs ?? OUT_OF_BAND_TTL[request.channel].defaultMs;
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > OUT_OF_BAND_TTL[request.channel].maxMs) {
    throw new DomainError('ttl_exceeds_maximum', `a ${request.channel} code lives at most ${OUT_OF_BAND_TTL[request.channel].maxMs / MINUTE} minutes`, 'invalid');
  }
  const digits = request.digits ?? OUT_OF_BAND_CODE_DIGITS.default;
  if (!Number.isInteger(digits) || digits < OUT_OF_BAND_CODE_DIGITS.min || digits > OUT_OF_BAND_CODE_DIGITS.max) {
    throw new DomainError('invalid_digits', `codes have ${OUT_OF_BAND_CODE_DIGITS.min}–${OUT_OF_BAND_CODE_DIGITS.max} digits`, 'invalid');
  }
  const code = generateNumericCode(deps.random, digits);
  const salt = drawBytes(deps.random, 16);
  return {
    code,
    record: {
      channel: request.channel,
      digits,
      salt,
      mac: hashCode(code, salt, deps.pepper),
      issuedAt: request.now,
      expiresAt: new Date(request.now.getTime() + ttlMs),
      consumedAt: null,
    },
  };
}

/**
 * Expired and consumed codes are refused before any comparison (those facts are not secret); a match
 * returns the conditional write that consumes the code, so it is single use under concurrency (S7).
 */
export function verifyOutOfBandCode(
  record: IssuedOutOfBandCode,
  input: string,
  now: Date,
  pepper: Uint8Array,
): VerificationResult<OutOfBandEvidence> {
  const kind = record.channel;
  const code = normalizeNumericCode(input);
  if (!isNumericCode(code, record.digits)) return { evidence: { kind, outcome: 'malformed' }, commit: null };
  if (now.getTime() >= record.expiresAt.getTime()) return { evidence: { kind, outcome: 'expired' }, commit: null };
  if (record.consumedAt !== null) return { evidence: { kind, outcome: 'already_used' }, commit: null };
  if (!constantTimeEqual(hashCode(code, record.salt, pepper), record.mac)) return { evidence: { kind, outcome: 'no_match' }, commit: null };
  return { evidence: { kind, outcome: 'match' }, commit: { kind: 'mark_used', at: now } };
}

export function assertRestrictedFactorAllowed(policy: RestrictedFactorPolicy, channel: OutOfBandChannel): void {
  if (!isRestrictedFactorAllowed(policy, channel)) {
    throw new DomainError('restricted_factor_forbidden', `${channel} is turned off by policy (restricted factor, S7)`, 'forbidden');
  }
}

type OutOfBandMethod<C extends OutOfBandChannel> = AuthMethod<C, IssuedOutOfBandCode, { readonly code: string }>;

export function createEmailOtpMethod(deps: { readonly pepper: Uint8Array }): OutOfBandMethod<'email_otp'> {
  assertPepper(deps.pepper);
  return {
    descriptor: EMAIL_OTP_DESCRIPTOR,
    async verify(record, attempt, now) {
      return verifyOnChannel('email_otp', record, attempt.code, now, deps.pepper);
    },
  };
}

export function createSmsOtpMethod(deps: { readonly pepper: Uint8Array }): OutOfBandMethod<'sms_otp'> {
  assertPepper(deps.pepper);
  return {
    descriptor: SMS_OTP_DESCRIPTOR,
    async verify(record, attempt, now) {
      return verifyOnChannel('sms_otp', record, attempt.code, now, deps.pepper);
    },
  };
}

/** A code issued for the other channel is not this method's to accept. */
function verifyOnChannel<C extends OutOfBandChannel>(
  channel: C,
  record: IssuedOutOfBandCode,
  input: string,
  now: Date,
  pepper: Uint8Array,
): VerificationResult<OutOfBandEvidence<C>> {
  if (record.channel !== channel) return { evidence: { kind: channel, outcome: 'no_match' } as OutOfBandEvidence<C>, commit: null };
  return verifyOutOfBandCode(record, input, now, pepper) as VerificationResult<OutOfBandEvidence<C>>;
}

/** `a•••@example.com`: enough for a person to recognise the address, useless to anyone else. */
export function maskEmailAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1 || at === address.length - 1) throw new DomainError('invalid_destination', 'not an email address', 'invalid');
  return `${address[0]}•••${address.slice(at)}`;
}

/** `•••••••89`: the last two digits of an E.164 number. */
export function maskPhoneNumber(number: string): string {
  if (!/^\+[1-9][0-9]{6,14}$/.test(number)) throw new DomainError('invalid_destination', 'not an E.164 phone number', 'invalid');
  return `${'•'.repeat(number.length - 3)}${number.slice(-2)}`;
}

/**
 * A 6-digit code has about 20 bits: any unkeyed hash, even a slow KDF, is reversed by trying all 10^6
 * values. A keyed MAC with a pepper kept out of the database makes a dump of the table useless
 * (S29), while the salt keeps equal codes from producing equal rows.
 */
function hashCode(code: string, salt: Uint8Array, pepper: Uint8Array): Uint8Array {
  assertPepper(pepper);
  return createHmac('sha256', pepper).update(salt).update(code, 'utf8').digest();
}

function assertPepper(pepper: Uint8Array): void {
  if (pepper.byteLength < OUT_OF_BAND_PEPPER_MIN_BYTES) throw new Error(`the code pepper must have at least ${OUT_OF_BAND_PEPPER_MIN_BYTES} bytes`);
}
