import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { AES_GCM_NONCE_BYTES as NONCE_BYTES, AES_GCM_TAG_BYTES as TAG_BYTES, aesGcmOpen, aesGcmSeal } from '@tessera/crypto';
import { canonicalJson, canonicalJsonBytes } from './canonical-json';

/**
 * Crypto-shredding of the personal data in audit records (ERASURE.md).
 *
 * The personal fields of a record are encrypted under a data key that belongs to one person (the
 * data subject). The hash chain covers the ciphertext, never the plaintext, so destroying the key
 * makes the fields unreadable for good while every hash, link and checkpoint still verifies.
 *
 * AES-256-GCM parameters:
 * - 96-bit random nonces, the IV construction NIST SP 800-38D §8.2.2 describes. §8.3 allows at most
 *   2^32 encryptions per key with random nonces; one key seals one person's audit records, which is
 *   many orders of magnitude fewer.
 * - 128-bit tags, and `authTagLength` pinned on decrypt as well: without it Node accepts a tag
 *   truncated to as little as 4 bytes (SP 800-38D §5.2.1.2 and Appendix C on short tags).
 * - Associated data binds the ciphertext to its event id, key id and list of field names, so a
 *   sealed block copied into another record fails to open instead of lending it someone's data.
 */

export type RandomBytes = (size: number) => Buffer;

export const DATA_KEY_BYTES = 32;
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

/**
 * One data subject's key. The material is a `KeyObject`, which neither `JSON.stringify` nor
 * `util.inspect` prints, so a key that strays into a log line does not reveal itself (S30).
 */
export interface DataKey {
  readonly keyId: string;
  readonly key: KeyObject;
}

/**
 * What the key store knows about a key id. Destroying a key replaces it with a tombstone that keeps
 * only the id and the time: enough to show "erased" rather than "unknown key", nothing more.
 */
export type DataKeyState =
  | { readonly status: 'active'; readonly keyId: string; readonly key: KeyObject }
  | { readonly status: 'destroyed'; readonly keyId: string; readonly destroyedAt: string };

export type DataKeyLookup = (keyId: string) => DataKeyState | undefined;

/** Personal fields by name; values are text only (ids, addresses, names, reasons). */
export type PersonalFields = Readonly<Record<string, string>>;

/** The stored, hashed form of a record's personal fields. Binary parts are base64url. */
export interface SealedPersonal {
  readonly v: 1;
  readonly alg: 'A256GCM';
  readonly keyId: string;
  /** The sealed fields' names, sorted: not personal, and lets an erased record say what it had. */
  readonly fields: readonly string[];
  readonly nonce: string;
  readonly ciphertext: string;
  readonly tag: string;
}

/** How a personal field reads once its key is destroyed; JSON-friendly for exports. */
export interface Erased {
  readonly erased: true;
}
export const ERASED: Erased = Object.freeze({ erased: true as const });

export function isErased(value: unknown): value is Erased {
  return typeof value === 'object' && value !== null && (value as { erased?: unknown }).erased === true;
}

/** A record's personal fields as a reader sees them. */
export type PersonalView =
  | { readonly status: 'none' }
  | { readonly status: 'available'; readonly keyId: string; readonly fields: PersonalFields }
  | { readonly status: 'erased'; readonly keyId: string; readonly destroyedAt: string; readonly fieldNames: readonly string[] }
  | { readonly status: 'unreadable'; readonly keyId: string; readonly reason: 'key_unknown' | 'authentication_failed' | 'malformed' };

export class DataKeyError extends Error {
  constructor(
    readonly code: 'invalid_key_id' | 'invalid_key',
    message: string,
  ) {
    super(message);
    this.name = 'DataKeyError';
  }
}

export function assertDataKeyId(keyId: string): void {
  if (!KEY_ID_PATTERN.test(keyId)) throw new DataKeyError('invalid_key_id', 'a data key id is 1-32 characters of A-Z a-z 0-9 . _ -');
}

/** Wraps 32 bytes of key material; the id must not be derived from the user id (ERASURE.md). */
export function dataKeyFromBytes(keyId: string, material: Uint8Array): DataKey {
  assertDataKeyId(keyId);
  if (material.length !== DATA_KEY_BYTES) throw new DataKeyError('invalid_key', `a data key is ${DATA_KEY_BYTES} bytes (AES-256)`);
  return { keyId, key: createSecretKey(Buffer.from(material)) };
}

/**
 * A fresh data key with a random id. The id doubles as the subject's pseudonym in records
 * (`subjectRef`), so it carries 128 random bits and nothing about the person.
 */
export function createDataKey(random: RandomBytes = randomBytes): DataKey {
  return dataKeyFromBytes(`dk_${random(16).toString('base64url')}`, random(DATA_KEY_BYTES));
}

function checkKey(key: KeyObject): void {
  if (key.type !== 'secret' || key.symmetricKeySize !== DATA_KEY_BYTES) {
    throw new DataKeyError('invalid_key', `a data key is a ${DATA_KEY_BYTES}-byte secret key (AES-256)`);
  }
}

function associatedData(eventId: string, keyId: string, fields: readonly string[]): Buffer {
  // Canonical JSON is injective over these strings, so no two bindings share bytes.
  return canonicalJsonBytes({ purpose: 'tessera.audit.personal', v: 1, eventId, keyId, fields });
}

export function sealPersonal(fields: PersonalFields, dataKey: DataKey, eventId: string, random: RandomBytes = randomBytes): SealedPersonal {
  assertDataKeyId(dataKey.keyId);
  checkKey(dataKey.key);
  const names = Object.keys(fields).sort();
  for (const name of names) {
    if (typeof fields[name] !== 'string') throw new TypeError(`personal field ${name} must be a string`);
  }
  const sealed = aesGcmSeal(dataKey.key, Buffer.from(canonicalJson(fields), 'utf8'), associatedData(eventId, dataKey.keyId, names), random(NONCE_BYTES));
  return {
    v: 1,
    alg: 'A256GCM',
    keyId: dataKey.keyId,
    fields: names,
    nonce: sealed.nonce.toString('base64url'),
    ciphertext: sealed.body.toString('base64url'),
    tag: sealed.tag.toString('base64url'),
  };
}

/**
 * Opens a sealed block. Never throws for a missing or destroyed key or a bad tag: a report over a
 * million records must be able to show "erased" or "unreadable" for one of them and go on.
 */
export function openPersonal(sealed: SealedPersonal | null, keyState: DataKeyState | undefined, eventId: string): PersonalView {
  if (sealed === null) return { status: 'none' };
  if (keyState === undefined || keyState.keyId !== sealed.keyId) return { status: 'unreadable', keyId: sealed.keyId, reason: 'key_unknown' };
  if (keyState.status === 'destroyed') {
    return { status: 'erased', keyId: sealed.keyId, destroyedAt: keyState.destroyedAt, fieldNames: sealed.fields };
  }
  const nonce = Buffer.from(sealed.nonce, 'base64url');
  const tag = Buffer.from(sealed.tag, 'base64url');
  if (sealed.v !== 1 || sealed.alg !== 'A256GCM' || nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) {
    return { status: 'unreadable', keyId: sealed.keyId, reason: 'malformed' };
  }
  const plaintext = aesGcmOpen(keyState.key, { nonce, tag, body: Buffer.from(sealed.ciphertext, 'base64url') }, associatedData(eventId, sealed.keyId, sealed.fields));
  if (plaintext === undefined) return { status: 'unreadable', keyId: sealed.keyId, reason: 'authentication_failed' };
  const fields = parseFields(plaintext.toString('utf8'), sealed.fields);
  return fields === null ? { status: 'unreadable', keyId: sealed.keyId, reason: 'malformed' } : { status: 'available', keyId: sealed.keyId, fields };
}

function parseFields(text: string, names: readonly string[]): PersonalFields | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length !== names.length || !entries.every(([name, value]) => typeof value === 'string' && names.includes(name))) return null;
  return parsed as PersonalFields;
}

/** One personal field: its text, {@link ERASED} once the key is gone, `null` when absent or unreadable. */
export function personalValue(view: PersonalView, name: string): string | Erased | null {
  switch (view.status) {
    case 'available':
      return Object.hasOwn(view.fields, name) ? view.fields[name] : null;
    case 'erased':
      return view.fieldNames.includes(name) ? ERASED : null;
    case 'none':
    case 'unreadable':
      return null;
  }
}
