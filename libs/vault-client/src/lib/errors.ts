/**
 * Every way the vault client says no, as a machine-readable code. Callers branch on `code`, never on
 * the message. Messages name the field or the rule that failed and never echo a secret, a passphrase
 * or a URI (which carries the secret).
 */
export type VaultErrorCode =
  /**
   * AES-GCM authentication failed. GCM cannot tell a wrong key from a modified ciphertext or header:
   * both give a tag mismatch and nothing else (NIST SP 800-38D §7.2 returns only FAIL). So the two are
   * one code, and a UI must word it as "wrong passphrase, or the backup was damaged".
   */
  | 'wrong_passphrase_or_tampered'
  /** The blob (or its payload) was written by a format version this client does not know. */
  | 'unsupported_version'
  /** Not a Tessera vault blob: bad magic, truncated, bad base64, or too large. */
  | 'malformed_blob'
  /** The header asks for scrypt parameters outside the accepted range (memory/CPU DoS guard). */
  | 'kdf_parameters_out_of_range'
  /** The passphrase is shorter than the minimum at encryption time. */
  | 'passphrase_too_short'
  /** An entry does not describe a valid TOTP/HOTP account. */
  | 'invalid_entry'
  /** An `otpauth://` URI could not be parsed or describes something unsupported. */
  | 'invalid_otpauth_uri'
  /** An import file is not valid JSON of the expected structure. */
  | 'invalid_import'
  /** An import file is valid but of a kind this client does not read (e.g. an encrypted Aegis vault). */
  | 'unsupported_import';

export class VaultError extends Error {
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}
