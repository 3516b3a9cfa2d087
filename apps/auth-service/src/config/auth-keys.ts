import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OUT_OF_BAND_PEPPER_MIN_BYTES } from '@tessera/auth-domain';
import { type ConfiguredKeyRing, CryptoError, parseKeyRing } from '@tessera/crypto';
import { ConfigError } from '@tessera/platform';
import type { AuthServiceConfig } from './auth-config';

/** A public key as published in the JWKS (RFC 7517). */
export interface PublicJwk {
  readonly kty: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

/** The key material auth-service works with; held in memory only, never logged (S30). */
export interface AuthKeys {
  /** S28: the key-encryption keys behind the KMS-shaped port of @tessera/crypto. */
  readonly keyRing: ConfiguredKeyRing;
  /** Keys the MAC of email/SMS codes and temporary access passes. */
  readonly otpPepper: Buffer;
  readonly stepUpSigningKey: KeyObject;
  readonly stepUpKeyId: string;
  /** The current public key first, then retired ones still published. */
  readonly stepUpJwks: readonly PublicJwk[];
}

interface DevKeyFile {
  readonly kekRing: string;
  readonly kekCurrent: string;
  readonly otpPepper: string;
  readonly stepUpSigningKey: JsonWebKey & { kid: string };
}

export const KEY_VARIABLES = ['AUTH_KEK_RING', 'AUTH_KEK_CURRENT', 'AUTH_OTP_PEPPER', 'AUTH_STEP_UP_SIGNING_KEY'] as const;

/**
 * Reads the key material from configuration. In production every key variable is required. Outside
 * production a missing one comes from a development key file created on first use (mode 0600), in the
 * spirit of the development token issuer: convenient locally, refused where it would be a weakness.
 */
export function loadAuthKeys(config: AuthServiceConfig): AuthKeys {
  const missing = KEY_VARIABLES.filter((name) => config[name] === undefined);
  if (config.TESSERA_ENV === 'production' && missing.length > 0) {
    throw new ConfigError(missing.map((name) => `${name}: required when TESSERA_ENV=production`));
  }
  if ((config.AUTH_KEK_RING === undefined) !== (config.AUTH_KEK_CURRENT === undefined)) {
    throw new ConfigError(['AUTH_KEK_RING, AUTH_KEK_CURRENT: set both or neither']);
  }
  const dev = missing.length > 0 ? devKeyFile(config.AUTH_DEV_KEYS_FILE) : undefined;

  let keyRing: ConfiguredKeyRing;
  try {
    keyRing = parseKeyRing(config.AUTH_KEK_RING ?? dev!.kekRing, config.AUTH_KEK_CURRENT ?? dev!.kekCurrent);
  } catch (error) {
    // CryptoError messages never carry key material (they quote valid ids only).
    throw new ConfigError([`AUTH_KEK_RING: ${error instanceof CryptoError ? error.message : 'invalid'}`]);
  }

  const otpPepper = Buffer.from(config.AUTH_OTP_PEPPER ?? dev!.otpPepper, 'base64');
  if (otpPepper.byteLength < OUT_OF_BAND_PEPPER_MIN_BYTES) {
    throw new ConfigError([`AUTH_OTP_PEPPER: base64 of at least ${OUT_OF_BAND_PEPPER_MIN_BYTES} random bytes`]);
  }

  const signingJwk = parseSigningJwk(config.AUTH_STEP_UP_SIGNING_KEY ?? JSON.stringify(dev!.stepUpSigningKey));
  const stepUpSigningKey = createPrivateKey({ key: signingJwk, format: 'jwk' });
  const current = publicJwk(createPublicKey(stepUpSigningKey).export({ format: 'jwk' }), signingJwk.kid);
  const previous = parsePreviousJwks(config.AUTH_STEP_UP_PREVIOUS_JWKS).filter((key) => key.kid !== current.kid);
  return { keyRing, otpPepper, stepUpSigningKey, stepUpKeyId: signingJwk.kid, stepUpJwks: [current, ...previous] };
}

/** A fresh set of keys in the variables' formats (tests, benchmarks, first-time setup). */
export function generateKeyMaterial(kekId = `k${randomBytes(3).toString('hex')}`): Record<(typeof KEY_VARIABLES)[number], string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    AUTH_KEK_RING: `${kekId}:${randomBytes(32).toString('base64')}`,
    AUTH_KEK_CURRENT: kekId,
    AUTH_OTP_PEPPER: randomBytes(32).toString('base64'),
    AUTH_STEP_UP_SIGNING_KEY: JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: `su-${randomBytes(4).toString('hex')}` }),
  };
}

function devKeyFile(path: string): DevKeyFile {
  const file = resolve(path);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevKeyFile;
  const generated = generateKeyMaterial('dev-1');
  const keys: DevKeyFile = {
    kekRing: generated.AUTH_KEK_RING,
    kekCurrent: generated.AUTH_KEK_CURRENT,
    otpPepper: generated.AUTH_OTP_PEPPER,
    stepUpSigningKey: JSON.parse(generated.AUTH_STEP_UP_SIGNING_KEY),
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

function parseSigningJwk(text: string): JsonWebKey & { kid: string } {
  let jwk: JsonWebKey & { kid?: unknown };
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new ConfigError(['AUTH_STEP_UP_SIGNING_KEY: not valid JSON']);
  }
  const kidOk = typeof jwk.kid === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(jwk.kid);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string' || !kidOk) {
    // ES256 (RFC 7518 §3.4) needs a P-256 private key; the kid lets verifiers pick it from the JWKS.
    throw new ConfigError(['AUTH_STEP_UP_SIGNING_KEY: an EC P-256 private JWK with a kid of [A-Za-z0-9._-]{1,64}']);
  }
  return jwk as JsonWebKey & { kid: string };
}

function parsePreviousJwks(text: string | undefined): PublicJwk[] {
  if (text === undefined) return [];
  try {
    const keys = (JSON.parse(text) as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) throw new Error('no keys');
    return keys.map((key: JsonWebKey & { kid?: string; d?: string }) => {
      if (key.d !== undefined || typeof key.kid !== 'string' || key.kty !== 'EC') throw new Error('bad key');
      return publicJwk(key, key.kid);
    });
  } catch {
    throw new ConfigError(['AUTH_STEP_UP_PREVIOUS_JWKS: a JWKS document of public EC keys, each with a kid']);
  }
}

function publicJwk(jwk: JsonWebKey, kid: string): PublicJwk {
  return { kty: jwk.kty as string, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' };
}
