import { createLocalJWKSet, createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { z } from 'zod';
import { ROLES, type Principal, type Role } from './principal';

export interface JwtVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** The issuer's public keys: a JWKS document (development, tests) or its URL (production). */
  readonly jwks: { readonly url: string } | { readonly json: string };
  /** Accepted signature algorithms; never 'none', never HMAC with a public key. */
  readonly algorithms?: readonly string[];
  readonly clockToleranceSeconds?: number;
}

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  roles: z.array(z.string()).max(20).optional(),
  scope: z.string().max(2000).optional(),
  jti: z.string().max(200).optional(),
  iat: z.number().optional(),
});

/**
 * A token verified once is remembered (by its exact text) for at most this long and never past its
 * `exp`: a service caller presents the same token on every call, and checking its signature again on
 * each one cost more CPU than a whole verification's database work. A key removed from the JWKS stops
 * being trusted for cached tokens within this time.
 */
const VERIFIED_CACHE_MS = 60_000;
const VERIFIED_CACHE_ENTRIES = 10_000;

/** Verifies bearer JWTs (signature, issuer, audience, expiry) and turns their claims into a Principal. */
export class JwtVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly verified = new Map<string, { readonly result: { principal: Principal; payload: JWTPayload }; readonly until: number }>();

  constructor(private readonly options: JwtVerifierOptions) {
    this.keys = 'url' in options.jwks
      ? createRemoteJWKSet(new URL(options.jwks.url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 })
      : createLocalJWKSet(JSON.parse(options.jwks.json));
  }

  async verify(token: string): Promise<{ principal: Principal; payload: JWTPayload }> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached !== undefined && cached.until > now) return cached.result;
    const result = await this.verifyNow(token);
    const until = Math.min(now + VERIFIED_CACHE_MS, (result.payload.exp ?? 0) * 1000);
    if (until > now) {
      if (this.verified.size >= VERIFIED_CACHE_ENTRIES) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, { result, until });
    }
    return result;
  }

  private async verifyNow(token: string): Promise<{ principal: Principal; payload: JWTPayload }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...(this.options.algorithms ?? ['ES256', 'EdDSA', 'RS256'])],
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      // jose's messages name the failed check (expired, signature, audience), never the token.
      throw new AuthenticationError(`the bearer token is not valid: ${(error as Error).message}`);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new AuthenticationError('the bearer token lacks a subject or has malformed claims');
    const roles = (claims.data.roles ?? []).filter((role): role is Role => (ROLES as readonly string[]).includes(role));
    return {
      payload,
      principal: {
        subject: claims.data.sub,
        roles,
        scopes: claims.data.scope ? claims.data.scope.split(' ').filter(Boolean) : [],
        tokenId: claims.data.jti,
        issuedAt: claims.data.iat ? new Date(claims.data.iat * 1000) : undefined,
      },
    };
  }
}
