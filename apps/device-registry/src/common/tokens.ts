/** Injection tokens of device-registry's own ports and settings (Nest DI constants). */
export const CREDENTIAL_REVOKER = Symbol('device-registry.credentialRevoker');
export const AAGUID_CATALOG = Symbol('device-registry.aaguidCatalog');
export const CLOCK = Symbol('device-registry.clock');
export const STEP_UP_VERIFIER = Symbol('device-registry.stepUpVerifier');
