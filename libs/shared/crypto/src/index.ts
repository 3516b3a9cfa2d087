export { constantTimeEqual } from './lib/constant-time-equal';
export { CryptoError, type CryptoErrorCode } from './lib/crypto-error';
export { ConfiguredKeyRing, type KeyRingEntry, parseKeyRing } from './lib/configured-key-ring';
export { type EncryptionContext, EnvelopeCipher } from './lib/envelope-cipher';
export { type KeyEncryptionService, type WrappedKey } from './lib/key-encryption-service';
export { KEY_BYTES as AES_GCM_KEY_BYTES, NONCE_BYTES as AES_GCM_NONCE_BYTES, TAG_BYTES as AES_GCM_TAG_BYTES, open as aesGcmOpen, seal as aesGcmSeal, type Sealed as AesGcmSealed } from './lib/aes-gcm';
