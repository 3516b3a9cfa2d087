// The public surface of @tessera/auth-domain: pure rules, no I/O (STYLE.md; Nx: nothing deep-imports past this file).
export * from './lib/crypto/random';
export * from './lib/methods/method';
export * from './lib/methods/registry';
export * from './lib/methods/numeric-code';
export * from './lib/methods/totp/totp';
export * from './lib/methods/totp/otpauth-uri';
export * from './lib/methods/backup-codes/backup-codes';
export * from './lib/methods/email-sms/out-of-band-code';
export * from './lib/methods/webauthn/webauthn';
export * from './lib/throttle/throttle';
export * from './lib/credentials/credentials-state';
export * from './lib/credentials/credentials-decider';
export * from './lib/credentials/credentials-snapshot';
