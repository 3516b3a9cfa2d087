export { constantTimeEqual } from './lib/constant-time-equal';
export { CryptoError, type CryptoErrorCode } from './lib/crypto-error';
export { ConfiguredKeyRing, type KeyRingEntry, parseKeyRing } from './lib/configured-key-ring';
export { type EncryptionContext, EnvelopeCipher } from './lib/envelope-cipher';
export { type KeyEncryptionService, type WrappedKey } from './lib/key-encryption-service';
