import { Secret } from 'otpauth';
import { z } from 'zod';
import { VaultError } from './errors';

/**
 * One authenticator account as the vault stores it. The secret is base32 (RFC 4648 §6), upper case,
 * without padding — the form `otpauth://` URIs and authenticator apps exchange.
 */
export type VaultEntry = TotpEntry | HotpEntry;

interface EntryBase {
  readonly issuer: string;
  readonly label: string;
  readonly secret: string;
  readonly algorithm: OtpAlgorithm;
  readonly digits: number;
}

export interface TotpEntry extends EntryBase {
  readonly type: 'totp';
  /** Time step in seconds (RFC 6238 §4.1 "X"). */
  readonly period: number;
}

export interface HotpEntry extends EntryBase {
  readonly type: 'hotp';
  /** The next moving factor value (RFC 4226 §5.2 "C"). */
  readonly counter: number;
}

/**
 * The hash functions RFC 6238 §1.2 names for TOTP. `otpauth` also knows SHA-224/384 and SHA-3, but
 * common authenticator apps (and the Aegis format, see aegis-plain.ts) only read these three, so a
 * backup holding anything else could not be restored into them.
 */
export const OTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type OtpAlgorithm = (typeof OTP_ALGORITHMS)[number];

/** RFC 4226 §5.3: at least 6 digits; the 31-bit dynamic truncation leaves room for at most 10. */
export const MIN_DIGITS = 6;
export const MAX_DIGITS = 10;
export const MAX_PERIOD_SECONDS = 3600;
const MAX_SECRET_CHARS = 1024;
const MAX_TEXT = 512;

/**
 * Canonical base32 or null. Spaces and dashes (as apps display secrets for manual entry), lower case
 * and `=` padding are accepted on input. `otpauth`'s decoder silently drops dangling bits (it reads
 * "ABC" as one byte), so the candidate is decoded, re-encoded and must come back unchanged: that
 * rejects impossible lengths (RFC 4648 §6: length mod 8 ∈ {0,2,4,5,7}) and non-zero trailing bits.
 */
export function canonicalBase32(raw: string): string | null {
  const compact = raw.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');
  if (compact.length === 0 || compact.length > MAX_SECRET_CHARS || !/^[A-Z2-7]+$/.test(compact)) return null;
  return Secret.fromBase32(compact).base32 === compact ? compact : null;
}

const text = (max: number) =>
  z
    .string()
    .transform((value) => value.trim())
    .pipe(
      z
        .string()
        .max(max, `must be at most ${max} characters`)
        .refine((value) => !/\p{Cc}/u.test(value), 'must not contain control characters'),
    );

const secret = z.string().transform((value, ctx) => {
  const canonical = canonicalBase32(value);
  if (canonical === null) {
    ctx.addIssue({ code: 'custom', message: 'must be non-empty RFC 4648 base32' });
    return z.NEVER;
  }
  return canonical;
});

const base = {
  issuer: text(256),
  label: text(MAX_TEXT).pipe(z.string().min(1, 'must not be empty')),
  secret,
  algorithm: z.enum(OTP_ALGORITHMS, `must be one of ${OTP_ALGORITHMS.join(', ')}`),
  digits: z.number().int().min(MIN_DIGITS).max(MAX_DIGITS),
};

const totpEntrySchema = z
  .object({ type: z.literal('totp'), ...base, period: z.number().int().min(1).max(MAX_PERIOD_SECONDS) })
  .strict();
const hotpEntrySchema = z
  .object({ type: z.literal('hotp'), ...base, counter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
  .strict();

/** Validates and normalises entries; the output of this schema is a `VaultEntry`. */
export const vaultEntrySchema = z.discriminatedUnion('type', [totpEntrySchema, hotpEntrySchema]);

/** Describes a zod failure by path and rule only: the offending value may be a secret. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(entry)'}: ${issue.message}`)
    .join('; ');
}

export function parseVaultEntry(input: unknown, where = 'entry'): VaultEntry {
  const result = vaultEntrySchema.safeParse(input);
  if (!result.success) throw new VaultError('invalid_entry', `${where} is invalid: ${describeIssues(result.error)}`);
  return result.data;
}

export function parseVaultEntries(input: readonly unknown[]): VaultEntry[] {
  return input.map((entry, index) => parseVaultEntry(entry, `entry ${index}`));
}
