/**
 * Machine-readable reasons a crypto operation failed. Callers branch on `code`, never on the
 * message.
 */
export type CryptoErrorCode =
  | 'unknown_key_id'
  | 'malformed_ciphertext'
  | 'authentication_failed'
  | 'unsupported_version'
  | 'invalid_key_ring';

/**
 * Messages are safe to log (S30): they never carry plaintext, key material or ciphertext. The only
 * values they may quote are key ids that pass the key-id pattern, which are at most 32 characters
 * and so cannot hold a 256-bit key in any text encoding (base64 needs 43, hex 64).
 */
export class CryptoError extends Error {
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CryptoError';
  }
}
