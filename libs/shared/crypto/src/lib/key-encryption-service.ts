/** A data key wrapped by a key-encryption key (KEK), with the id of that KEK. */
export interface WrappedKey {
  readonly keyId: string;
  readonly wrappedKey: Buffer;
}

/**
 * The port to whatever holds the key-encryption keys: a key ring from configuration today, a KMS or
 * HSM later. Shaped like a KMS (async, keys never leave it) so that swapping the implementation does
 * not change `EnvelopeCipher` or the stored format.
 *
 * Callers zero data keys once used, so an implementation must not keep the buffer `wrapKey` is given
 * and must return a buffer of its own from `unwrapKey`.
 */
export interface KeyEncryptionService {
  /** Id of the KEK that new wraps use. */
  currentKeyId(): Promise<string>;
  /** Wraps a data key under the current KEK. */
  wrapKey(dataKey: Buffer): Promise<WrappedKey>;
  /**
   * Unwraps a data key under the KEK named by `keyId`, which may be an older key still in service.
   * Throws `CryptoError` `unknown_key_id` when that KEK is not held, `authentication_failed` when the
   * wrap does not verify.
   */
  unwrapKey(keyId: string, wrappedKey: Buffer): Promise<Buffer>;
}
