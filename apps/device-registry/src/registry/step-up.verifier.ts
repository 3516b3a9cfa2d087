import { ApiError } from '@tessera/platform';
import { type JWTVerifyGetKey, createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';

/** Where a step-up assertion travels on HTTP (gRPC carries it in the request message); auth-service's name. */
export const STEP_UP_HEADER = 'x-step-up-assertion';
/** auth-service marks its assertions with this JWT type (RFC 8725 §3.11), so no other JWT passes for one. */
export const STEP_UP_TOKEN_TYPE = 'tessera-step-up+jwt';
/** "Recent": as auth-service's own rule for factor changes (ASVS 5.0 7.5.1; auth-domain STEP_UP_MAX_AGE_MS). */
export const STEP_UP_MAX_AGE_SECONDS = 300;
/** DESIGN.md: sensitive user actions require a recent step-up at AAL2 (NIST SP 800-63B-4 §2.2). */
export const STEP_UP_MIN_AAL = 2;

export interface StepUpOptions {
  readonly jwks: { readonly url: string } | { readonly json: string };
  readonly issuer: string;
  readonly audience: string;
  /** How old (since the authentication it asserts) an assertion may be; default STEP_UP_MAX_AGE_SECONDS. */
  readonly maxAgeSeconds?: number;
  /** The least NIST SP 800-63B-4 assurance level accepted; default STEP_UP_MIN_AAL. */
  readonly minAal?: number;
  readonly clockToleranceSeconds?: number;
}

export interface StepUp {
  readonly userId: string;
  readonly tokenId: string;
  readonly aal: number;
  readonly authenticatedAt: Date;
  readonly expiresAt: Date;
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  jti: z.string().min(1).max(200),
  iat: z.number(),
  exp: z.number(),
  auth_time: z.number().optional(),
  aal: z.number().int().min(1).max(3).optional(),
  acr: z.string().max(200).optional(),
  amr: z.array(z.string().max(32)).max(20).optional(),
});

/**
 * Verifies auth-service's step-up assertions (DESIGN.md: "sensitive user actions require a recent
 * step-up (AAL2) assertion issued by auth-service itself"): an ES256 JWT of type tessera-step-up+jwt
 * checked against auth-service's JWKS, for this user, at AAL2 or more, asserting an authentication
 * (`auth_time`, else `iat`) at most five minutes old. The level is read from the `aal` claim, or from an
 * `acr` ending in it (auth-service writes both: `aal: 2`, `acr: urn:tessera:aal2`).
 *
 * Refusals follow the OAuth 2.0 Step Up Authentication Challenge (RFC 9470 §3): 401 when a fresh
 * step-up would help (`step_up_required`), 403 when it would not (wrong user).
 */
export class StepUpVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly options: StepUpOptions) {
    this.keys =
      'url' in options.jwks
        ? createRemoteJWKSet(new URL(options.jwks.url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 })
        : createLocalJWKSet(JSON.parse(options.jwks.json));
  }

  async verify(assertion: string | undefined, userId: string, now: Date): Promise<StepUp> {
    if (!assertion) throw stepUpRequired(`This needs a recent step-up: send auth-service's assertion in the ${STEP_UP_HEADER} header.`);
    if (assertion.length > 8192 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(assertion)) {
      throw stepUpRequired('The step-up assertion is not a JWT.');
    }
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(assertion, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ['ES256'],
        typ: STEP_UP_TOKEN_TYPE,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        currentDate: now,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) {
        // The JWKS could not be fetched: auth-service is unreachable, not the caller at fault.
        throw new ApiError(503, 'step_up_unverifiable', 'The step-up assertion cannot be checked right now; try again shortly.');
      }
      // jose names the failed check (expired, too old, signature, issuer), never the token.
      throw stepUpRequired(`The step-up assertion is not valid (${(error as Error).message}); step up again.`);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw stepUpRequired('The step-up assertion lacks the expected claims.');
    if (claims.data.sub !== userId) throw new ApiError(403, 'step_up_wrong_user', 'The step-up assertion was issued for another account.');
    const authenticatedAt = new Date((claims.data.auth_time ?? claims.data.iat) * 1000);
    const maxAgeMs = (this.options.maxAgeSeconds ?? STEP_UP_MAX_AGE_SECONDS) * 1000;
    const toleranceMs = (this.options.clockToleranceSeconds ?? 30) * 1000;
    if (now.getTime() - authenticatedAt.getTime() > maxAgeMs || authenticatedAt.getTime() - now.getTime() > toleranceMs) {
      throw stepUpRequired('The step-up is not recent enough; step up again.');
    }
    const minAal = this.options.minAal ?? STEP_UP_MIN_AAL;
    const aal = claims.data.aal ?? levelFromAcr(claims.data.acr);
    if (aal === null || aal < minAal) {
      throw new ApiError(401, 'step_up_insufficient', `This needs a step-up at AAL${minAal} or higher.`);
    }
    return {
      userId,
      tokenId: claims.data.jti,
      aal,
      authenticatedAt,
      expiresAt: new Date(claims.data.exp * 1000),
    };
  }
}

function levelFromAcr(acr: string | undefined): number | null {
  const match = acr ? /aal[/_:-]?([123])$/i.exec(acr) : null;
  // e.g. urn:tessera:aal2, or NIST's http://idmanagement.gov/ns/assurance/aal/2
  return match ? Number(match[1]) : null;
}

function stepUpRequired(message: string): ApiError {
  return new ApiError(401, 'step_up_required', message);
}

/**
 * A step-up authorises one action (replay guard): `purpose` names the kind of action and `target` what
 * it acts on. Presenting the same assertion again for the same target is a retry and is let through
 * (the actions are idempotent); for another target, or a second use where `target` is null, it is
 * refused. Rows expire with the assertion and are then swept.
 */
export async function consumeStepUp(manager: EntityManager, stepUp: StepUp, purpose: string, target: string | null, now: Date): Promise<void> {
  const inserted: unknown[] = await manager.query(
    `INSERT INTO step_up_uses (token_id, purpose, user_id, target, used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (token_id, purpose) DO NOTHING RETURNING token_id`,
    [stepUp.tokenId, purpose, stepUp.userId, target, now, stepUp.expiresAt],
  );
  if (inserted.length > 0) return;
  const existing: { target: string | null; user_id: string }[] = await manager.query(
    `SELECT target, user_id FROM step_up_uses WHERE token_id = $1 AND purpose = $2`,
    [stepUp.tokenId, purpose],
  );
  const same = existing[0] && target !== null && existing[0].target === target && existing[0].user_id === stepUp.userId;
  if (!same) throw new ApiError(401, 'step_up_already_used', 'This step-up assertion was already used; step up again.');
}
