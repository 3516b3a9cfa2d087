export { VaultError, type VaultErrorCode } from './lib/errors';
export {
  MAX_DIGITS,
  MAX_PERIOD_SECONDS,
  MIN_DIGITS,
  OTP_ALGORITHMS,
  canonicalBase32,
  parseVaultEntry,
  type HotpEntry,
  type OtpAlgorithm,
  type TotpEntry,
  type VaultEntry,
} from './lib/entry';
export {
  DEFAULT_SCRYPT_PARAMS,
  HEADER_BYTES,
  KDF_ID_SCRYPT,
  MAX_BLOB_BYTES,
  SCRYPT_LIMITS,
  VAULT_FORMAT_VERSION,
  VAULT_MAGIC,
  type ScryptParams,
} from './lib/format';
export {
  DEFAULT_MIN_PASSPHRASE_LENGTH,
  MAX_VAULT_ENTRIES,
  VAULT_PAYLOAD_VERSION,
  decryptVault,
  encryptVault,
  readVaultHeader,
  vaultFromBase64,
  vaultToBase64,
  type EncryptVaultOptions,
} from './lib/vault';
export { fromOtpauthUri, toOtpauthUri } from './lib/otpauth-uri';
export {
  AEGIS_CONTAINER_VERSION,
  AEGIS_DB_VERSION,
  exportAegisPlain,
  importAegisPlain,
  type AegisExportOptions,
  type AegisImportResult,
} from './lib/aegis-plain';
