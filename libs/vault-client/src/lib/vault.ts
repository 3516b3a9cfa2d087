import { randomBytes as nodeRandomBytes, scrypt } from 'node:crypto';
import { aesGcmOpen, aesGcmSeal } from '@tessera/crypto';
import { z } from 'zod';
import { parseVaultEntries, vaultEntrySchema, type VaultEntry } from './entry';
import { VaultError } from './errors';
import {
  DEFAULT_SCRYPT_PARAMS,
  MAX_BLOB_BYTES,
  NONCE_BYTES,
  SALT_BYTES,
  checkScryptParams,
  encodeHeader,
  isBelowRecommended,
  parseBlob,
  scryptMemoryBytes,
  type ScryptParams,
} from './format';

/** The version of the JSON inside the ciphertext, independent of the binary container's version. */
export const VAULT_PAYLOAD_VERSION = 1;
export const MAX_VAULT_ENTRIES = 10_000;

/**
 * NIST SP 800-63B-4 §3.1.1.2 asks for at least 15 characters where a memorised secret is the only
 * thing protecting the account. A vault passphrase is exactly that against anyone holding a copy of
 * the blob (a server breach gives offline guessing), so writers default to 15.
 */
export const DEFAULT_MIN_PASSPHRASE_LENGTH = 15;

export interface EncryptVaultOptions {
  /** scrypt parameters written to the header; defaults to `DEFAULT_SCRYPT_PARAMS`. */
  readonly kdf?: ScryptParams;
  /** Permit parameters below the OWASP minimum. For tests only: it makes each guess cheap. */
  readonly allowWeakKdf?: boolean;
  readonly minPassphraseLength?: number;
  /** Randomness is injected (STYLE.md principle 4); defaults to the CSPRNG. */
  readonly randomBytes?: (size: number) => Uint8Array;
}

const payloadSchema = z
  .object({
    version: z.number().int(),
    entries: z.array(z.unknown()).max(MAX_VAULT_ENTRIES),
  })
  .strict();

/**
 * Encrypts authenticator entries under a passphrase (S31): scrypt derives a 256-bit key from the
 * passphrase and a fresh 16-byte salt, AES-256-GCM encrypts the JSON payload with the whole header as
 * associated data. The fresh salt gives every blob its own key, so each key encrypts exactly one
 * message and the random 96-bit nonce can never repeat under one key.
 */
export async function encryptVault(
  entries: readonly VaultEntry[],
  passphrase: string,
  options: EncryptVaultOptions = {},
): Promise<Uint8Array> {
  const params = options.kdf ?? DEFAULT_SCRYPT_PARAMS;
  checkScryptParams(params);
  if (isBelowRecommended(params) && options.allowWeakKdf !== true) {
    throw new VaultError(
      'kdf_parameters_out_of_range',
      `scrypt N·r below the recommended 2^${DEFAULT_SCRYPT_PARAMS.log2N}·${DEFAULT_SCRYPT_PARAMS.r} needs allowWeakKdf`,
    );
  }
  const minLength = options.minPassphraseLength ?? DEFAULT_MIN_PASSPHRASE_LENGTH;
  const normalised = normalisePassphrase(passphrase);
  if ([...normalised].length < minLength) {
    throw new VaultError('passphrase_too_short', `the passphrase must be at least ${minLength} characters`);
  }
  if (entries.length > MAX_VAULT_ENTRIES) {
    throw new VaultError('invalid_entry', `a vault holds at most ${MAX_VAULT_ENTRIES} entries`);
  }
  const valid = parseVaultEntries(entries);

  const random = options.randomBytes ?? ((size: number) => nodeRandomBytes(size));
  const salt = random(SALT_BYTES);
  const nonce = random(NONCE_BYTES);
  const header = encodeHeader(params, salt, nonce);
  const key = await deriveKey(normalised, salt, params);
  const plaintext = Buffer.from(JSON.stringify({ version: VAULT_PAYLOAD_VERSION, entries: valid }), 'utf8');
  try {
    const sealed = aesGcmSeal(key, plaintext, header, nonce);
    return new Uint8Array(Buffer.concat([header, sealed.body, sealed.tag]));
  } finally {
    // Best effort only: JavaScript gives no guarantee that no other copy of the key or plaintext exists.
    key.fill(0);
    plaintext.fill(0);
  }
}

/** Decrypts a blob (bytes, or the base64 text of `vaultToBase64`). */
export async function decryptVault(blob: Uint8Array | string, passphrase: string): Promise<VaultEntry[]> {
  const parsed = parseBlob(typeof blob === 'string' ? vaultFromBase64(blob) : blob);
  const { salt, nonce, kdf } = parsed.header;
  const key = await deriveKey(normalisePassphrase(passphrase), salt, kdf);
  let plaintext: Buffer | undefined;
  try {
    plaintext = aesGcmOpen(key, { nonce, tag: parsed.tag, body: parsed.ciphertext }, parsed.headerBytes);
  } finally {
    key.fill(0);
  }
  if (plaintext === undefined) {
    throw new VaultError('wrong_passphrase_or_tampered', 'the passphrase is wrong or the backup was modified (AES-GCM cannot tell these apart)');
  }
  try {
    return readPayload(plaintext);
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Reads the public header without the passphrase: what a server may record about a blob it stores
 * (format version, KDF parameters, size) without learning anything secret. Refuses what decryptVault
 * would refuse before deriving a key.
 */
export function readVaultHeader(blob: Uint8Array | string): {
  readonly formatVersion: number;
  readonly kdf: { readonly algorithm: 'scrypt' } & ScryptParams;
  readonly sizeBytes: number;
} {
  const bytes = typeof blob === 'string' ? vaultFromBase64(blob) : blob;
  const { header } = parseBlob(bytes);
  return { formatVersion: header.formatVersion, kdf: header.kdf, sizeBytes: bytes.byteLength };
}

export function vaultToBase64(blob: Uint8Array): string {
  return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64');
}

/** Strict RFC 4648 §4 base64: Node's decoder skips invalid characters silently, so check first. */
export function vaultFromBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new VaultError('malformed_blob', 'vault text is not base64');
  }
  if (compact.length > Math.ceil(MAX_BLOB_BYTES / 3) * 4) throw new VaultError('malformed_blob', 'vault text is too large');
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * Unicode NFC, so that the same passphrase typed on systems that compose characters differently
 * (macOS input methods often produce NFD) derives the same key; RFC 8265 §4.2.2 (OpaqueString) uses
 * NFC for the same reason.
 */
function normalisePassphrase(passphrase: string): string {
  return passphrase.normalize('NFC');
}

function deriveKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  checkScryptParams(params);
  const options = { N: 2 ** params.log2N, r: params.r, p: params.p, maxmem: scryptMemoryBytes(params) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(passphrase, 'utf8'), salt, 32, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function readPayload(plaintext: Buffer): VaultEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new VaultError('malformed_blob', 'the decrypted payload is not JSON');
  }
  const payload = payloadSchema.safeParse(json);
  if (!payload.success) throw new VaultError('malformed_blob', 'the decrypted payload has an unexpected shape');
  if (payload.data.version !== VAULT_PAYLOAD_VERSION) {
    throw new VaultError('unsupported_version', `vault payload version ${payload.data.version} is not supported`);
  }
  return payload.data.entries.map((entry, index) => {
    const result = vaultEntrySchema.safeParse(entry);
    if (!result.success) throw new VaultError('malformed_blob', `decrypted entry ${index} is invalid`);
    return result.data;
  });
}
