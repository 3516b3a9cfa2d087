import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with the parameters used for both the data key wrap and the payload.
 *
 * - 96-bit nonces from the CSPRNG: the RBG-based construction of NIST SP 800-38D §8.2.2, the IV
 *   length §5.2.1.1 recommends. §8.3 caps a key at 2^32 encryptions with random IVs; a data key
 *   encrypts exactly one secret, and a key-encryption key performs one wrap per encrypt or rewrap,
 *   which rotation (SP 800-57 Part 1 Rev. 5 §5.3, cryptoperiods) keeps far below the cap.
 * - 128-bit tags only. Node's decipher accepts a truncated tag (down to 4 bytes) unless told the
 *   length, and a short tag makes forgery far cheaper (SP 800-38D §5.2.1.2, Appendix C): `open`
 *   refuses any other length itself and also pins `authTagLength`.
 */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

const ALGORITHM = 'aes-256-gcm';

export interface Sealed {
  readonly nonce: Buffer;
  readonly tag: Buffer;
  readonly body: Buffer;
}

/**
 * Encrypts and authenticates. The nonce is fresh from the CSPRNG unless the caller must know it first
 * (a format that puts it in its associated data) or injects randomness for tests; it must never repeat
 * under one key.
 */
export function seal(key: KeyObject | Buffer, plaintext: Uint8Array, associatedData: Uint8Array, nonce: Uint8Array = randomBytes(NONCE_BYTES)): Sealed {
  if (nonce.byteLength !== NONCE_BYTES) throw new TypeError(`an AES-GCM nonce is ${NONCE_BYTES} bytes`);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData);
  const body = cipher.update(plaintext);
  cipher.final(); // GCM is a stream mode: final() only computes the tag and returns no bytes.
  return { nonce: Buffer.from(nonce), tag: cipher.getAuthTag(), body };
}

/** The plaintext, or `undefined` when the tag does not verify (wrong key, wrong AAD or tampering). */
export function open(key: KeyObject | Buffer, sealed: { readonly nonce: Uint8Array; readonly tag: Uint8Array; readonly body: Uint8Array }, associatedData: Uint8Array): Buffer | undefined {
  if (sealed.nonce.byteLength !== NONCE_BYTES || sealed.tag.byteLength !== TAG_BYTES) return undefined;
  const decipher = createDecipheriv(ALGORITHM, key, sealed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.tag);
  decipher.setAAD(associatedData);
  // update() releases bytes before the tag is checked; they are returned only once final() verifies.
  const plaintext = decipher.update(sealed.body);
  try {
    decipher.final();
    return plaintext;
  } catch {
    plaintext.fill(0);
    return undefined;
  }
}
