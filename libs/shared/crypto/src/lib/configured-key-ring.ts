import { createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { KEY_BYTES, NONCE_BYTES, open, seal, TAG_BYTES } from './aes-gcm';
import { encodeFields } from './associated-data';
import { CryptoError } from './crypto-error';
import { type KeyEncryptionService, type WrappedKey } from './key-encryption-service';

/**
 * At most 32 characters, so an id can never be a 256-bit key pasted into the wrong place (its
 * base64 is 43 characters or more): ids that match may be quoted in error messages, others never.
 */
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

/**
 * Canonical standard base64 of exactly 32 bytes (RFC 4648 §4): 43 characters and one `=`. The last
 * character carries 4 bits of key and 2 zero pad bits, hence its 16 allowed values (§3.5).
 */
const BASE64_KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Domain-separates the wrap's associated data from every other use of AES-GCM in Tessera. */
const WRAP_LABEL = 'tessera/crypto/kek-wrap/v1';

/** A wrapped 256-bit data key: wrap nonce, encrypted key, wrap tag. */
const WRAPPED_KEY_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES;

export interface KeyRingEntry {
  readonly id: string;
  readonly key: Uint8Array;
}

function invalid(message: string): CryptoError {
  return new CryptoError('invalid_key_ring', `invalid key ring: ${message}`);
}

function describeId(keyId: string): string {
  return KEY_ID_PATTERN.test(keyId) ? `'${keyId}'` : '(not a valid key id)';
}

/**
 * Key-encryption keys from configuration, one of them current. Older keys stay in the ring after
 * rotation so that data keys wrapped under them still unwrap until the rewrap job has moved every
 * ciphertext to the current key (SP 800-57 Part 1 Rev. 5 §7: a deactivated key may still process,
 * that is unwrap, protected data, and is destroyed only once none depends on it).
 *
 * Keys are held as `KeyObject`s in private fields: neither `JSON.stringify` nor `util.inspect`
 * shows them.
 */
export class ConfiguredKeyRing implements KeyEncryptionService {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #currentKeyId: string;

  constructor(entries: readonly KeyRingEntry[], currentKeyId: string) {
    if (entries.length === 0) throw invalid('it holds no keys');
    const keys = new Map<string, KeyObject>();
    entries.forEach((entry, index) => {
      if (!KEY_ID_PATTERN.test(entry.id)) {
        throw invalid(`key ${index + 1} has an id that is not 1 to 32 characters of [A-Za-z0-9._-]`);
      }
      if (keys.has(entry.id)) throw invalid(`key id '${entry.id}' appears more than once`);
      if (entry.key.byteLength !== KEY_BYTES) {
        throw invalid(`key '${entry.id}' is ${entry.key.byteLength} bytes; AES-256 needs exactly ${KEY_BYTES}`);
      }
      // The same key under two ids is a botched rotation: the "new" key protects nothing new.
      for (const earlier of entries.slice(0, index)) {
        if (timingSafeEqual(earlier.key, entry.key)) {
          throw invalid(`keys '${earlier.id}' and '${entry.id}' are the same key`);
        }
      }
      keys.set(entry.id, createSecretKey(entry.key));
    });
    if (!keys.has(currentKeyId)) {
      throw invalid(`the current key id ${describeId(currentKeyId)} is not one of the keys in the ring`);
    }
    this.#keys = keys;
    this.#currentKeyId = currentKeyId;
  }

  /** Ids of every key held, for health checks and the rotation job's report. Not secret. */
  keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  async currentKeyId(): Promise<string> {
    return this.#currentKeyId;
  }

  async wrapKey(dataKey: Buffer): Promise<WrappedKey> {
    if (dataKey.byteLength !== KEY_BYTES) throw new RangeError(`a data key must be ${KEY_BYTES} bytes`);
    const keyId = this.#currentKeyId;
    const { nonce, body, tag } = seal(this.#key(keyId), dataKey, wrapAssociatedData(keyId));
    return { keyId, wrappedKey: Buffer.concat([nonce, body, tag], WRAPPED_KEY_BYTES) };
  }

  async unwrapKey(keyId: string, wrappedKey: Buffer): Promise<Buffer> {
    const kek = this.#key(keyId);
    if (wrappedKey.byteLength !== WRAPPED_KEY_BYTES) {
      throw new CryptoError('malformed_ciphertext', `a wrapped data key must be ${WRAPPED_KEY_BYTES} bytes`);
    }
    const dataKey = open(
      kek,
      {
        nonce: wrappedKey.subarray(0, NONCE_BYTES),
        body: wrappedKey.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES),
        tag: wrappedKey.subarray(NONCE_BYTES + KEY_BYTES),
      },
      wrapAssociatedData(keyId),
    );
    if (!dataKey) throw new CryptoError('authentication_failed', `the data key did not unwrap under key ${describeId(keyId)}`);
    return dataKey;
  }

  #key(keyId: string): KeyObject {
    const key = this.#keys.get(keyId);
    if (!key) throw new CryptoError('unknown_key_id', `no key ${describeId(keyId)} in the key ring`);
    return key;
  }
}

/**
 * The wrap is bound to the id of the KEK that made it, so relabelling a wrapped key with another id
 * fails authentication even if the ring ever held the same key under two ids.
 */
function wrapAssociatedData(keyId: string): Buffer {
  return encodeFields([WRAP_LABEL, keyId]);
}

/**
 * Builds a key ring from configuration: comma-separated `id:base64key` entries, e.g.
 * `k2025-01:<base64 of 32 bytes>,k2026-06:<base64 of 32 bytes>`, plus the id of the current key.
 * Whitespace around entries is ignored so the value may span lines. Generate a key with
 * `openssl rand -base64 32`.
 *
 * Error messages name entries by position and quote only well-formed ids, never the text of an
 * entry: a misplaced separator could otherwise put a key into a log line.
 */
export function parseKeyRing(config: string, currentKeyId: string): ConfiguredKeyRing {
  if (typeof config !== 'string' || config.trim() === '') throw invalid('the configuration is empty');
  const decoded: KeyRingEntry[] = [];
  try {
    config.split(',').forEach((raw, index) => {
      const entry = raw.trim();
      const position = `entry ${index + 1}`;
      if (entry === '') throw invalid(`${position} is empty`);
      const separator = entry.indexOf(':');
      if (separator < 0) throw invalid(`${position} has no ':' between the key id and the key`);
      const id = entry.slice(0, separator);
      const encoded = entry.slice(separator + 1);
      if (!KEY_ID_PATTERN.test(id)) {
        throw invalid(`${position} has a key id that is not 1 to 32 characters of [A-Za-z0-9._-]`);
      }
      if (!BASE64_KEY_PATTERN.test(encoded)) {
        throw invalid(`key '${id}' is not standard base64 of exactly ${KEY_BYTES} bytes (44 characters ending in '=')`);
      }
      decoded.push({ id, key: Buffer.from(encoded, 'base64') });
    });
    return new ConfiguredKeyRing(decoded, currentKeyId);
  } finally {
    // createSecretKey copied the bytes; wipe the transient copies (best effort in a GC'd runtime).
    for (const { key } of decoded) key.fill(0);
  }
}
