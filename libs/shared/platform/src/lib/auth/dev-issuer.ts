import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type JWK, SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { Role } from './principal';

export const DEV_ISSUER = 'tessera-dev-issuer';
export const DEV_AUDIENCE = 'tessera';

/**
 * The development issuer (DESIGN.md): mints bearer tokens for local use and tests with an ES256 key
 * kept in a git-ignored file. It refuses to exist in production mode, so a production service can
 * only trust its real identity provider.
 */
export class DevIssuer {
  private constructor(
    private readonly privateJwk: JWK,
    readonly publicJwk: JWK,
  ) {}

  static async generate(environment = process.env.TESSERA_ENV): Promise<DevIssuer> {
    DevIssuer.refuseInProduction(environment);
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `dev-${randomUUID().slice(0, 8)}`;
    return new DevIssuer({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }, { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
  }

  /** Loads the key from `path`, creating it on first use. */
  static async fromFile(path: string, environment = process.env.TESSERA_ENV): Promise<DevIssuer> {
    DevIssuer.refuseInProduction(environment);
    if (existsSync(path)) {
      const privateJwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
      const { d: _private, ...publicJwk } = privateJwk;
      return new DevIssuer(privateJwk, { ...publicJwk, use: 'sig' });
    }
    const issuer = await DevIssuer.generate(environment);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(issuer.privateJwk), { mode: 0o600 });
    return issuer;
  }

  private static refuseInProduction(environment: string | undefined): void {
    if (environment === 'production') throw new Error('the development token issuer refuses to run when TESSERA_ENV=production');
  }

  /** The public JWKS services are configured with (AUTH_JWKS_JSON). */
  jwksJson(): string {
    return JSON.stringify({ keys: [this.publicJwk] });
  }

  async token(claims: { subject: string; roles?: readonly Role[]; scopes?: readonly string[]; ttlSeconds?: number; audience?: string }): Promise<string> {
    const key = await importJWK(this.privateJwk, 'ES256');
    return new SignJWT({ roles: [...(claims.roles ?? [])], ...(claims.scopes?.length ? { scope: claims.scopes.join(' ') } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: this.privateJwk.kid, typ: 'JWT' })
      .setIssuer(DEV_ISSUER)
      .setAudience(claims.audience ?? DEV_AUDIENCE)
      .setSubject(claims.subject)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${claims.ttlSeconds ?? 3600}s`)
      .sign(key);
  }
}
