import { randomBytes } from 'node:crypto';
import { KEY_BYTES, open, seal } from './aes-gcm';
import { encodeFields } from './associated-data';
import { CryptoError } from './crypto-error';
import { type Envelope, parseEnvelope, serializeEnvelope } from './envelope-format';
import { type KeyEncryptionService } from './key-encryption-service';

/**
 * Where a secret belongs. All three fields are bound into the ciphertext as associated data, so a
 * ciphertext copied to another user's row, another credential or another use fails to decrypt (S28).
 */
export interface EncryptionContext {
  readonly userId: string;
  readonly credentialId: string;
  /** What the secret is, e.g. `totp-seed`; stops one kind of secret standing in for another. */
  readonly purpose: string;
}

/** Domain-separates the payload's associated data; names the format version it belongs to. */
const PAYLOAD_LABEL = 'tessera/crypto/envelope/v1';

/**
 * Envelope encryption for verifier secrets at rest (S28, S29): each secret gets a fresh random
 * 256-bit data key, the secret is sealed with AES-256-GCM under it, and the data key is wrapped by
 * the current key-encryption key of a `KeyEncryptionService`. The stored string carries the KEK id
 * and the wrapped key (format in envelope-format.ts).
 *
 * Cost: encrypt and decrypt each run two AES-GCM operations (wrap or unwrap, then the payload) and
 * no KDF, which keeps decryption cheap enough for every TOTP verification (tens of thousands per
 * second on one core against a target of 1,500). Unwrapped data keys are deliberately not cached:
 * a cache would keep plaintext keys in memory to save work that is already cheap.
 *
 * The CSPRNG is used directly rather than injected: a substitutable source of nonces and keys is a
 * way to ship predictable ones, and the tests check properties that need no fixed randomness.
 */
export class EnvelopeCipher {
  readonly #keys: KeyEncryptionService;

  constructor(keys: KeyEncryptionService) {
    this.#keys = keys;
  }

  async encrypt(plaintext: Buffer, context: EncryptionContext): Promise<string> {
    if (!Buffer.isBuffer(plaintext)) throw new TypeError('plaintext must be a Buffer');
    const associatedData = payloadAssociatedData(context);
    const dataKey = randomBytes(KEY_BYTES);
    try {
      const { keyId, wrappedKey } = await this.#keys.wrapKey(dataKey);
      const { nonce, tag, body } = seal(dataKey, plaintext, associatedData);
      return serializeEnvelope({ keyId, wrappedKey, nonce, tag, body });
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * Throws `CryptoError`: `malformed_ciphertext` or `unsupported_version` for input that is not a
   * ciphertext this code writes, `unknown_key_id` when its KEK has left the ring, and
   * `authentication_failed` when it was altered or belongs to another context.
   */
  async decrypt(ciphertext: string, context: EncryptionContext): Promise<Buffer> {
    const associatedData = payloadAssociatedData(context);
    const envelope = parseEnvelope(ciphertext);
    const dataKey = await this.#keys.unwrapKey(envelope.keyId, envelope.wrappedKey);
    try {
      const plaintext = open(dataKey, envelope, associatedData);
      if (!plaintext) {
        throw new CryptoError('authentication_failed', 'the ciphertext failed authentication: altered, or bound to another user, credential or purpose');
      }
      return plaintext;
    } finally {
      dataKey.fill(0);
    }
  }

  /** Whether the ciphertext's data key is wrapped under a KEK other than the current one. */
  async needsRewrap(ciphertext: string): Promise<boolean> {
    const { keyId } = parseEnvelope(ciphertext);
    return keyId !== (await this.#keys.currentKeyId());
  }

  /**
   * Moves a ciphertext to the current KEK for key rotation (SP 800-57 Part 1 Rev. 5 §5.3): unwraps
   * its data key with the old KEK and wraps it again under the current one. Nonce, tag and payload
   * are copied unchanged, so the secret itself is never decrypted and no context is needed; this is
   * also why the KEK id is bound by the wrap and left out of the payload's associated data.
   *
   * Returns the input unchanged when it is already under the current KEK. Because the payload is
   * not opened, a tampered payload is carried over as is and still fails at `decrypt`. Store the
   * result with a compare-and-set on the old value, so a secret re-enrolled meanwhile is not
   * overwritten.
   */
  async rewrap(ciphertext: string): Promise<string> {
    const envelope = parseEnvelope(ciphertext);
    if (envelope.keyId === (await this.#keys.currentKeyId())) return ciphertext;
    const dataKey = await this.#keys.unwrapKey(envelope.keyId, envelope.wrappedKey);
    try {
      const { keyId, wrappedKey } = await this.#keys.wrapKey(dataKey);
      const rewrapped: Envelope = { ...envelope, keyId, wrappedKey };
      return serializeEnvelope(rewrapped);
    } finally {
      dataKey.fill(0);
    }
  }
}

function payloadAssociatedData(context: EncryptionContext): Buffer {
  const { purpose, userId, credentialId } = context;
  requireField('purpose', purpose);
  requireField('userId', userId);
  requireField('credentialId', credentialId);
  return encodeFields([PAYLOAD_LABEL, purpose, userId, credentialId]);
}

/**
 * An empty field would bind nothing; an ill-formed one (a lone surrogate) encodes to the same bytes
 * as other ill-formed strings. Both are caller bugs, hence TypeError rather than CryptoError.
 */
function requireField(name: string, value: unknown): void {
  if (typeof value !== 'string' || value === '' || !value.isWellFormed()) {
    throw new TypeError(`context.${name} must be a non-empty, well-formed string`);
  }
}
