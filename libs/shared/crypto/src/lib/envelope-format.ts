import { NONCE_BYTES, TAG_BYTES } from './aes-gcm';
import { CryptoError } from './crypto-error';

/**
 * The stored form of an envelope-encrypted secret, format version 1 (S28). Everything needed to
 * decrypt it, except the keys and the context, travels inside it; in particular the id of the KEK
 * that wrapped its data key, so that keys can rotate while old ciphertexts stay readable.
 *
 * Text: `v1.` followed by the bytes below in unpadded base64url (RFC 4648 §5). ASCII only, no
 * separators to escape: it fits a TEXT column as is. The `v1.` prefix lets a reader (or a SQL query)
 * tell the format without decoding; the version byte keeps the bytes self-describing if they are
 * ever stored as bytea. The two must agree.
 *
 *   offset      size  field
 *   0           1     format version, 0x01
 *   1           1     k: length of the KEK id in bytes, 1..255
 *   2           k     KEK id, printable ASCII
 *   2+k         2     w: length of the wrapped data key, big-endian, 1..65535
 *   4+k         w     wrapped data key, opaque here: the KeyEncryptionService defines it
 *                     (ConfiguredKeyRing: wrap nonce 12 | encrypted data key 32 | wrap tag 16)
 *   4+k+w       12    payload nonce
 *   16+k+w      16    payload tag
 *   32+k+w      4     n: length of the payload ciphertext, big-endian
 *   36+k+w      n     payload ciphertext, as long as the plaintext; nothing follows it
 *
 * A 20-byte TOTP seed under an 8-character key id takes 124 bytes, 169 characters.
 *
 * Only the version and the lengths are checked here; every other byte is checked by one of the
 * two GCM tags (the wrap binds the KEK id; the payload binds its context). The explicit payload
 * length makes a truncated or extended value `malformed_ciphertext` (storage damage) rather than
 * `authentication_failed` (which callers may treat as tampering).
 */
export const FORMAT_VERSION = 1;

const TEXT_PREFIX = `v${FORMAT_VERSION}.`;
const VERSION_PREFIX_PATTERN = /^v([1-9]\d{0,2})\./;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
const KEY_ID_BYTES_PATTERN = /^[\x21-\x7e]{1,255}$/;
const MAX_WRAPPED_KEY_BYTES = 0xffff;
const MIN_BYTES = 1 + 1 + 1 + 2 + 1 + NONCE_BYTES + TAG_BYTES + 4;

export interface Envelope {
  readonly keyId: string;
  readonly wrappedKey: Buffer;
  readonly nonce: Buffer;
  readonly tag: Buffer;
  readonly body: Buffer;
}

/** Whether `keyId` can be carried in the format: 1 to 255 printable ASCII characters. */
export function isEncodableKeyId(keyId: string): boolean {
  return KEY_ID_BYTES_PATTERN.test(keyId);
}

export function serializeEnvelope(envelope: Envelope): string {
  const { keyId, wrappedKey, nonce, tag, body } = envelope;
  if (!isEncodableKeyId(keyId)) {
    throw new CryptoError('invalid_key_ring', 'the key service returned a key id that is not 1 to 255 printable ASCII characters');
  }
  if (wrappedKey.byteLength < 1 || wrappedKey.byteLength > MAX_WRAPPED_KEY_BYTES) {
    throw new CryptoError('invalid_key_ring', `the key service returned a wrapped key of ${wrappedKey.byteLength} bytes`);
  }
  if (nonce.byteLength !== NONCE_BYTES || tag.byteLength !== TAG_BYTES) {
    throw new RangeError(`a payload needs a ${NONCE_BYTES}-byte nonce and a ${TAG_BYTES}-byte tag`);
  }
  const header = Buffer.allocUnsafe(2 + keyId.length + 2);
  header.writeUInt8(FORMAT_VERSION, 0);
  header.writeUInt8(keyId.length, 1);
  header.write(keyId, 2, 'latin1');
  header.writeUInt16BE(wrappedKey.byteLength, 2 + keyId.length);
  const bodyLength = Buffer.allocUnsafe(4);
  bodyLength.writeUInt32BE(body.byteLength, 0);
  return TEXT_PREFIX + Buffer.concat([header, wrappedKey, nonce, tag, bodyLength, body]).toString('base64url');
}

function malformed(message: string): CryptoError {
  return new CryptoError('malformed_ciphertext', `malformed ciphertext: ${message}`);
}

export function parseEnvelope(text: string): Envelope {
  if (typeof text !== 'string') throw malformed('not a string');
  const prefix = VERSION_PREFIX_PATTERN.exec(text);
  if (!prefix) throw malformed('no version prefix');
  if (prefix[0] !== TEXT_PREFIX) {
    throw new CryptoError('unsupported_version', `ciphertext format version ${Number(prefix[1])} is not supported`);
  }
  const encoded = text.slice(TEXT_PREFIX.length);
  if (!BASE64URL_PATTERN.test(encoded)) throw malformed('not base64url after the version prefix');
  const bytes = Buffer.from(encoded, 'base64url');
  // Node's decoder drops stray trailing bits; one stored value must have exactly one text form.
  if (bytes.toString('base64url') !== encoded) throw malformed('not canonical base64url');
  if (bytes.byteLength < MIN_BYTES) throw malformed('too short');
  if (bytes[0] !== FORMAT_VERSION) throw malformed('the version byte does not match the prefix');

  const keyIdLength = bytes[1];
  const wrappedLengthAt = 2 + keyIdLength;
  if (keyIdLength === 0 || wrappedLengthAt + 2 > bytes.byteLength) throw malformed('bad key id length');
  const keyId = bytes.toString('latin1', 2, wrappedLengthAt);
  if (!isEncodableKeyId(keyId)) throw malformed('the key id is not printable ASCII');

  const wrappedLength = bytes.readUInt16BE(wrappedLengthAt);
  const nonceAt = wrappedLengthAt + 2 + wrappedLength;
  const tagAt = nonceAt + NONCE_BYTES;
  const bodyLengthAt = tagAt + TAG_BYTES;
  const bodyAt = bodyLengthAt + 4;
  if (wrappedLength === 0 || bodyAt > bytes.byteLength) throw malformed('bad wrapped key length');
  if (bytes.readUInt32BE(bodyLengthAt) !== bytes.byteLength - bodyAt) throw malformed('truncated or extended');

  return {
    keyId,
    wrappedKey: bytes.subarray(wrappedLengthAt + 2, nonceAt),
    nonce: bytes.subarray(nonceAt, tagAt),
    tag: bytes.subarray(tagAt, bodyLengthAt),
    body: bytes.subarray(bodyAt),
  };
}
