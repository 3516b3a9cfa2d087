/** DI tokens of auth-service (NestJS: constants in one file). */
export const AUTH_KEYS = Symbol('auth.keys');
export const SECRET_CIPHER = Symbol('auth.secretCipher');
export const AUTH_METHODS = Symbol('auth.methods');
export const CLOCK = Symbol('auth.clock');
