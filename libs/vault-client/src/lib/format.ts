import { VaultError } from './errors';

/*
 * The binary layout of a vault blob, version 1. FORMAT.md beside this library is the specification;
 * this file is its only implementation. All integers are big-endian.
 *
 *   offset  size  field
 *        0     4  magic "TSVB" (0x54 0x53 0x56 0x42)
 *        4     1  format version = 1
 *        5     1  KDF id (1 = scrypt)
 *        6     1  scrypt log2(N)
 *        7     4  scrypt r
 *       11     4  scrypt p
 *       15    16  salt
 *       31    12  AES-256-GCM nonce
 *       43     n  ciphertext
 *     43+n    16  GCM tag
 *
 * Bytes 0..42 (the whole header) are the GCM associated data, so changing any of them fails
 * authentication even where it would not change the derived key.
 */

export const VAULT_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x54, 0x53, 0x56, 0x42);
export const VAULT_FORMAT_VERSION = 1;
export const KDF_ID_SCRYPT = 1;
export const SALT_BYTES = 16;
/** 96 bits: the nonce length GCM is specified for without a GHASH step (NIST SP 800-38D §5.2.1.1). */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BYTES = 4 + 1 + 1 + 1 + 4 + 4 + SALT_BYTES + NONCE_BYTES;
/** A thousand accounts take about 150 KiB; anything near this is not a vault, and refusing it early bounds memory. */
export const MAX_BLOB_BYTES = 8 * 1024 * 1024;

export interface ScryptParams {
  /** log2 of the CPU/memory cost N; storing the exponent keeps N a power of two (RFC 7914 §2). */
  readonly log2N: number;
  /** Block size: each of the N blocks is 128·r bytes. */
  readonly r: number;
  /** Parallelisation: p independent ROMix runs, each adding N·r work. */
  readonly p: number;
}

/**
 * N = 2^17, r = 8, p = 1: the first scrypt setting in the OWASP Password Storage Cheat Sheet ("a
 * minimum CPU/memory cost parameter of (2^17), a minimum block size of 8 (1024 bytes), and a
 * parallelization parameter of 1"). Memory is 128·r·N = 128 MiB per guess (RFC 7914 §2), which is
 * what makes GPU/ASIC guessing of an offline copy of the blob expensive; a phone or laptop pays it
 * once per backup or restore (see the timing test). The values live in the header, so later writers
 * can raise them without breaking old blobs.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { log2N: 17, r: 8, p: 1 };

/**
 * What a reader accepts. The header is attacker-controlled (the server, or whoever swapped the blob,
 * chooses it), and scrypt's cost is exactly those numbers, so a reader must bound them before deriving
 * anything: without a cap a 40-byte blob could ask for terabytes of memory.
 *
 * - The ceiling is the scrypt paper's own file-encryption setting (N = 2^20, r = 8, p = 1, Percival
 *   2009 §7): 1 GiB of memory and 2^23 block operations. Nothing legitimate needs more for a backup.
 * - The floor (N = 2^10) is low only so that tests run quickly; writers are held to
 *   `RECOMMENDED_MINIMUM` unless they opt out explicitly.
 * - RFC 7914 §2 also requires N < 2^(16·r) and p ≤ (2^32 − 1)·32 / (128·r); both hold inside these bounds
 *   and are checked anyway.
 */
export const SCRYPT_LIMITS = {
  minLog2N: 10,
  maxLog2N: 20,
  minR: 1,
  maxR: 32,
  minP: 1,
  maxP: 16,
  maxMemoryBytes: 2 ** 30,
  maxWork: 2 ** 23,
} as const;

/** Below this, `encryptVault` refuses unless told `allowWeakKdf` (tests only). */
export const RECOMMENDED_MINIMUM: ScryptParams = DEFAULT_SCRYPT_PARAMS;

/**
 * The memory scrypt allocates: V is N blocks and B is p blocks of 128·r bytes each (RFC 7914 §5–6);
 * OpenSSL sizes V as N + 2 blocks, so this matches the `maxmem` check Node passes it.
 */
export function scryptMemoryBytes(params: ScryptParams): number {
  return 128 * params.r * (2 ** params.log2N + 2) + 128 * params.r * params.p;
}

export function checkScryptParams(params: ScryptParams): void {
  const { log2N, r, p } = params;
  const L = SCRYPT_LIMITS;
  const integers = [log2N, r, p].every((value) => Number.isSafeInteger(value));
  const inRange =
    integers && log2N >= L.minLog2N && log2N <= L.maxLog2N && r >= L.minR && r <= L.maxR && p >= L.minP && p <= L.maxP;
  const rfc7914 = inRange && log2N < 16 * r && p <= ((2 ** 32 - 1) * 32) / (128 * r);
  const affordable = rfc7914 && 128 * r * 2 ** log2N <= L.maxMemoryBytes && 2 ** log2N * r * p <= L.maxWork;
  if (!affordable) {
    throw new VaultError(
      'kdf_parameters_out_of_range',
      `scrypt parameters N=2^${log2N}, r=${r}, p=${p} are outside the accepted range ` +
        `(N 2^${L.minLog2N}..2^${L.maxLog2N}, r ${L.minR}..${L.maxR}, p ${L.minP}..${L.maxP}, ` +
        `memory ≤ ${L.maxMemoryBytes / 2 ** 20} MiB, N·r·p ≤ 2^${Math.log2(L.maxWork)})`,
    );
  }
}

export function isBelowRecommended(params: ScryptParams): boolean {
  return 2 ** params.log2N * params.r < 2 ** RECOMMENDED_MINIMUM.log2N * RECOMMENDED_MINIMUM.r;
}

export interface VaultHeader {
  readonly formatVersion: number;
  readonly kdf: { readonly algorithm: 'scrypt' } & ScryptParams;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
}

export function encodeHeader(params: ScryptParams, salt: Uint8Array, nonce: Uint8Array): Buffer {
  if (salt.length !== SALT_BYTES || nonce.length !== NONCE_BYTES) throw new Error('salt must be 16 bytes and nonce 12 bytes');
  const header = Buffer.alloc(HEADER_BYTES);
  header.set(VAULT_MAGIC, 0);
  header.writeUInt8(VAULT_FORMAT_VERSION, 4);
  header.writeUInt8(KDF_ID_SCRYPT, 5);
  header.writeUInt8(params.log2N, 6);
  header.writeUInt32BE(params.r, 7);
  header.writeUInt32BE(params.p, 11);
  header.set(salt, 15);
  header.set(nonce, 31);
  return header;
}

export interface ParsedBlob {
  readonly header: VaultHeader;
  /** The exact header bytes, used as associated data. */
  readonly headerBytes: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * Reads and checks everything that can be checked without the passphrase, in an order that gives the
 * most useful code: not ours → `malformed_blob`; ours but newer → `unsupported_version` (checked before
 * the length, because a later version may lay out its header differently); then the KDF bounds.
 */
export function parseBlob(blob: Uint8Array): ParsedBlob {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length > MAX_BLOB_BYTES) throw new VaultError('malformed_blob', `a vault blob is at most ${MAX_BLOB_BYTES} bytes`);
  if (bytes.length < VAULT_MAGIC.length + 1 || !bytes.subarray(0, 4).equals(VAULT_MAGIC)) {
    throw new VaultError('malformed_blob', 'not a Tessera vault blob (bad magic)');
  }
  const formatVersion = bytes.readUInt8(4);
  if (formatVersion !== VAULT_FORMAT_VERSION) {
    throw new VaultError('unsupported_version', `vault format version ${formatVersion} is not supported (this client reads ${VAULT_FORMAT_VERSION})`);
  }
  if (bytes.length < HEADER_BYTES + TAG_BYTES) throw new VaultError('malformed_blob', 'vault blob is truncated');
  const kdfId = bytes.readUInt8(5);
  if (kdfId !== KDF_ID_SCRYPT) {
    throw new VaultError('unsupported_version', `KDF id ${kdfId} is not defined in vault format version ${VAULT_FORMAT_VERSION}`);
  }
  const params: ScryptParams = { log2N: bytes.readUInt8(6), r: bytes.readUInt32BE(7), p: bytes.readUInt32BE(11) };
  checkScryptParams(params);
  const headerBytes = bytes.subarray(0, HEADER_BYTES);
  return {
    header: {
      formatVersion,
      kdf: { algorithm: 'scrypt', ...params },
      salt: Uint8Array.from(bytes.subarray(15, 31)),
      nonce: Uint8Array.from(bytes.subarray(31, HEADER_BYTES)),
    },
    headerBytes,
    ciphertext: bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}
