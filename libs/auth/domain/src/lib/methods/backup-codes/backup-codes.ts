import { scrypt } from 'node:crypto';
import { constantTimeEqual } from '@tessera/crypto';
import { drawBytes, type RandomSource } from '../../crypto/random';
import { type AuthMethod, type BackupCodeEvidence, type MethodDescriptor, type VerificationResult } from '../method';

export const BACKUP_CODES_DESCRIPTOR: MethodDescriptor<'backup_codes'> = {
  id: 'backup_codes',
  // Look-up secrets: something you have, AAL2 with the password (63B-4 §3.1.2). RFC 8176 has no
  // look-up-secret value; a backup code is a one-time password.
  aal: 2,
  amr: ['otp'],
  guessable: true,
  restricted: false,
  phishingResistant: false,
};

/**
 * A code reads `IIII-SSSS-SSSS-SSSS-SSSS` in Crockford base32 (no I, L, O, U: nothing to misread).
 * - `IIII` (20 bits) is a lookup index, NOT secret: it names the row, so an attempt costs one KDF
 *   instead of one per stored code (S11), and an index collision within a set is redrawn.
 * - `SSSS…` (16 characters, 80 bits) is the secret: ≥ 64 bits per code (S10; 63B-4 §4.2.1.1). Only
 *   these bits count as entropy.
 */
export const BACKUP_CODE_POLICY = {
  count: 10,
  indexChars: 4,
  secretChars: 16,
  groupChars: 4,
  /** BackupCodesLow is raised when this many or fewer remain, so the user regenerates in time. */
  lowRemainingThreshold: 3,
} as const;

export const CROCKFORD_BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const BACKUP_CODE_SECRET_BITS = BACKUP_CODE_POLICY.secretChars * 5;

export interface ScryptParameters {
  readonly algorithm: 'scrypt';
  /** N, the CPU/memory cost (a power of two). */
  readonly cost: number;
  /** r, the block size. */
  readonly blockSize: number;
  /** p, the parallelisation. */
  readonly parallelization: number;
  readonly keyLength: number;
}

/**
 * Why scrypt at this cost: a secret part below 112 bits must be stored salted and hashed with a key
 * derivation function, as for passwords (63B-4 §3.1.2.2 referring to §3.1.1.2; S11). Unlike a
 * password, the secret is 80 uniformly random bits, so an offline search is infeasible whatever the
 * cost — the KDF is defence in depth, not the barrier. A moderate cost therefore suffices and keeps
 * verification cheap: N = 2^11, r = 8, p = 1 uses 2 MiB and measured about 3.8 ms per derivation on
 * the development machine (2 vCPU, Node 24), under the ~5 ms budget for one verify. The parameters are
 * stored with every row, so a later, higher cost applies to new rows without breaking old ones.
 */
export const BACKUP_CODE_KDF: ScryptParameters = { algorithm: 'scrypt', cost: 2 ** 11, blockSize: 8, parallelization: 1, keyLength: 32 };

/** 128-bit salt per row (S11 asks ≥ 32 bits; 63B-4 §3.1.1.2). */
export const BACKUP_CODE_SALT_BYTES = 16;

export type BackupCodeKdf = (input: string, salt: Uint8Array, params: ScryptParameters) => Promise<Uint8Array>;

export const scryptBackupCodeKdf: BackupCodeKdf = (input, salt, params) =>
  new Promise((resolve, reject) => {
    scrypt(
      input,
      salt,
      params.keyLength,
      { N: params.cost, r: params.blockSize, p: params.parallelization, maxmem: 256 * params.cost * params.blockSize },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });

/** One stored code. Never the code: the index, the salt, the derived hash and how it was derived. */
export interface BackupCodeRow {
  readonly index: string;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
  readonly kdf: ScryptParameters;
  readonly usedAt: Date | null;
}

export interface GeneratedBackupCodes {
  /** Shown to the user once and then forgotten: nothing can display them again. */
  readonly codes: readonly string[];
  readonly rows: readonly BackupCodeRow[];
}

export async function generateBackupCodes(
  random: RandomSource,
  kdf: BackupCodeKdf = scryptBackupCodeKdf,
  params: ScryptParameters = BACKUP_CODE_KDF,
): Promise<GeneratedBackupCodes> {
  const codes: string[] = [];
  const rows: BackupCodeRow[] = [];
  const indexes = new Set<string>();
  while (codes.length < BACKUP_CODE_POLICY.count) {
    // 3 bytes → the top 20 bits; 10 bytes → exactly 80 bits, no bit wasted or reused.
    const index = encodeCrockford(drawBytes(random, 3), BACKUP_CODE_POLICY.indexChars);
    if (indexes.has(index)) continue;
    indexes.add(index);
    const secret = encodeCrockford(drawBytes(random, BACKUP_CODE_SECRET_BITS / 8), BACKUP_CODE_POLICY.secretChars);
    const salt = drawBytes(random, BACKUP_CODE_SALT_BYTES);
    rows.push({ index, salt, hash: await kdf(kdfInput({ index, secret }), salt, params), kdf: params, usedAt: null });
    codes.push(formatBackupCode(index + secret));
  }
  return { codes, rows };
}

export interface ParsedBackupCode {
  readonly index: string;
  readonly secret: string;
}

/**
 * What people type: any case, spaces, dashes, underscores or dots between groups, full-width forms
 * (NFKC), and Crockford's confusables — O for 0, I and L for 1. Returns null when the result is not 20
 * characters of the alphabet (U is never valid, as in Crockford's decoding).
 */
export function normalizeBackupCode(input: string): string | null {
  const text = input
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s\-_.]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  const length = BACKUP_CODE_POLICY.indexChars + BACKUP_CODE_POLICY.secretChars;
  if (text.length !== length) return null;
  for (const char of text) if (!CROCKFORD_BASE32.includes(char)) return null;
  return text;
}

export function parseBackupCode(input: string): ParsedBackupCode | null {
  const code = normalizeBackupCode(input);
  if (code === null) return null;
  return { index: code.slice(0, BACKUP_CODE_POLICY.indexChars), secret: code.slice(BACKUP_CODE_POLICY.indexChars) };
}

/** Dummy salt and hash so an index that names no row costs the same single KDF as one that does. */
const ABSENT_ROW: BackupCodeRow = {
  index: '',
  salt: new Uint8Array(BACKUP_CODE_SALT_BYTES),
  hash: new Uint8Array(BACKUP_CODE_KDF.keyLength),
  kdf: BACKUP_CODE_KDF,
  usedAt: null,
};

/**
 * Checks an attempt against the row its index named, looked up by the caller among the rows of the
 * user's current set only (indexes repeat across sets; `undefined` if none).
 * Exactly one KDF runs for every well-formed attempt — never one per stored code (S11); malformed
 * input is refused before any. A used row is refused after the KDF, so its timing is that of any
 * other attempt. A match returns the conditional write that consumes the row (S12).
 */
export async function verifyBackupCode(
  row: BackupCodeRow | undefined,
  code: ParsedBackupCode,
  now: Date,
  kdf: BackupCodeKdf = scryptBackupCodeKdf,
): Promise<VerificationResult<BackupCodeEvidence>> {
  const target = row !== undefined && row.index === code.index ? row : ABSENT_ROW;
  const derived = await kdf(kdfInput(code), target.salt, target.kdf);
  const equal = constantTimeEqual(derived, target.hash);
  if (target === ABSENT_ROW || !equal) return { evidence: { kind: 'backup_codes', outcome: 'no_match' }, commit: null };
  if (target.usedAt !== null) return { evidence: { kind: 'backup_codes', outcome: 'already_used' }, commit: null };
  return { evidence: { kind: 'backup_codes', outcome: 'match' }, commit: { kind: 'mark_used', at: now } };
}

/** S13 companion rule: few enough codes left that the user must be told to regenerate. */
export function isBackupCodesLow(remaining: number): boolean {
  return remaining <= BACKUP_CODE_POLICY.lowRemainingThreshold;
}

export function createBackupCodesMethod(
  deps: { readonly kdf?: BackupCodeKdf } = {},
): AuthMethod<'backup_codes', BackupCodeRow | undefined, { readonly code: string }> {
  const kdf = deps.kdf ?? scryptBackupCodeKdf;
  return {
    descriptor: BACKUP_CODES_DESCRIPTOR,
    async verify(row, attempt, now) {
      const code = parseBackupCode(attempt.code);
      if (code === null) return { evidence: { kind: 'backup_codes', outcome: 'malformed' }, commit: null };
      return verifyBackupCode(row, code, now, kdf);
    },
  };
}

/** The index is hashed with the secret, so a row's hash is worthless under any other index. */
function kdfInput(code: ParsedBackupCode): string {
  return `${code.index}${code.secret}`;
}

function formatBackupCode(code: string): string {
  return code.match(new RegExp(`.{${BACKUP_CODE_POLICY.groupChars}}`, 'g'))!.join('-');
}

/** Big-endian: the first `chars` × 5 bits of `bytes`, one Crockford character per 5 bits. */
function encodeCrockford(bytes: Uint8Array, chars: number): string {
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  const shift = BigInt(bytes.byteLength * 8 - chars * 5);
  bits >>= shift;
  let out = '';
  for (let i = chars - 1; i >= 0; i--) out += CROCKFORD_BASE32[Number((bits >> BigInt(i * 5)) & 31n)];
  return out;
}
