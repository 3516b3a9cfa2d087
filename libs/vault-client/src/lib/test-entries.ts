import { randomBytes } from 'node:crypto';
import { Secret } from 'otpauth';
import { type ScryptParams } from './format';
import { type VaultEntry } from './entry';

/** Test fixtures shared by this library's specs (not exported from the package). */

/** 1 MiB per guess: fast enough to run hundreds of derivations in a unit test. */
export const FAST_KDF: ScryptParams = { log2N: 10, r: 8, p: 1 };
export const FAST = { kdf: FAST_KDF, allowWeakKdf: true } as const;
export const PASSPHRASE = 'correct horse battery staple vault';

export function sampleEntries(count: number): VaultEntry[] {
  return Array.from({ length: count }, (_, i): VaultEntry => {
    const secret = new Secret({ buffer: randomBytes(20 + (i % 3) * 12).buffer }).base32;
    const common = { issuer: `Issuer ${i}`, label: `user${i}@example.com`, secret };
    if (i % 4 === 3) return { type: 'hotp', ...common, algorithm: 'SHA1', digits: 6, counter: i };
    const algorithm = (['SHA1', 'SHA256', 'SHA512'] as const)[i % 3];
    return { type: 'totp', ...common, algorithm, digits: i % 2 === 0 ? 6 : 8, period: i % 5 === 0 ? 60 : 30 };
  });
}
