import { Inject, Injectable } from '@nestjs/common';
import { type BindingAuthorization, STEP_UP_MAX_AGE_MS } from '@tessera/auth-domain';
import { type Aal, type AmrValue, aalSchema, amrValueSchema } from '@tessera/contracts';
import { ApiError, CONFIG, type Principal } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import { createLocalJWKSet, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { AuthServiceConfig } from '../config/auth-config';
import type { AuthKeys, PublicJwk } from '../config/auth-keys';
import { AUTH_KEYS } from '../common/tokens';

/** The header a person sends a step-up assertion in, to bind or remove a factor (S21). */
export const STEP_UP_HEADER = 'x-step-up-assertion';
/** RFC 8725 §3.11: an explicit type, so a step-up assertion cannot be mistaken for another JWT. */
const TOKEN_TYPE = 'tessera-step-up+jwt';

export interface StepUpFacts {
  readonly userId: string;
  readonly method: string;
  readonly credentialId: string | null;
  readonly aal: Aal;
  readonly amr: readonly AmrValue[];
  readonly authenticatedAt: Date;
  /** Set when the step-up is a Temporary Access Pass inside a completed recovery. */
  readonly recovery?: { readonly recoveryId: string; readonly passExpiresAt: Date };
}

export interface IssuedAssertion {
  readonly assertion: string;
  readonly jti: string;
  readonly expiresAt: Date;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  aal: aalSchema,
  amr: z.array(amrValueSchema).min(1),
  auth_time: z.number().int(),
  mth: z.string(),
  cid: z.string().nullable().optional(),
  rcv: z.object({ id: z.string().min(1), exp: z.number().int() }).optional(),
});

/**
 * Step-up assertions: ES256 JWTs (RFC 7515/7519) signed by auth-service, with RFC 8176 `amr` values,
 * `acr`/`aal` for the NIST SP 800-63B-4 level, `auth_time`, a short lifetime and a unique `jti`.
 * Callers verify them offline against `/.well-known/jwks.json`.
 */
@Injectable()
export class StepUpService {
  private readonly localKeys: JWTVerifyGetKey;

  constructor(
    @Inject(AUTH_KEYS) private readonly keys: AuthKeys,
    @Inject(CONFIG) private readonly config: AuthServiceConfig,
  ) {
    this.localKeys = createLocalJWKSet({ keys: [...keys.stepUpJwks] as never });
  }

  jwks(): { keys: readonly PublicJwk[] } {
    return { keys: this.keys.stepUpJwks };
  }

  async issue(facts: StepUpFacts, now: Date): Promise<IssuedAssertion> {
    const jti = uuidv7(now.getTime());
    const issuedAt = Math.floor(now.getTime() / 1000);
    const expiresAt = new Date((issuedAt + this.config.AUTH_STEP_UP_TTL_SECONDS) * 1000);
    const assertion = await new SignJWT({
      aal: facts.aal,
      acr: `urn:tessera:aal${facts.aal}`,
      amr: [...facts.amr],
      auth_time: Math.floor(facts.authenticatedAt.getTime() / 1000),
      mth: facts.method,
      cid: facts.credentialId,
      ...(facts.recovery ? { rcv: { id: facts.recovery.recoveryId, exp: Math.floor(facts.recovery.passExpiresAt.getTime() / 1000) } } : {}),
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.keys.stepUpKeyId, typ: TOKEN_TYPE })
      .setIssuer(this.config.AUTH_STEP_UP_ISSUER)
      .setAudience(this.config.AUTH_STEP_UP_AUDIENCE)
      .setSubject(facts.userId)
      .setJti(jti)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.keys.stepUpSigningKey);
    return { assertion, jti, expiresAt };
  }

  /** Checks an assertion this service issued; answers 403 `step_up_invalid` for anything else. */
  async verify(assertion: string, userId: string, now: Date): Promise<StepUpFacts> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(assertion, this.localKeys, {
        issuer: this.config.AUTH_STEP_UP_ISSUER,
        audience: this.config.AUTH_STEP_UP_AUDIENCE,
        algorithms: ['ES256'],
        typ: TOKEN_TYPE,
        currentDate: now,
        requiredClaims: ['sub', 'exp', 'jti', 'iat'],
      }));
    } catch {
      throw new ApiError(403, 'step_up_invalid', 'The step-up assertion is not valid or has expired.');
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new ApiError(403, 'step_up_invalid', 'The step-up assertion is malformed.');
    if (claims.data.sub !== userId) throw new ApiError(403, 'step_up_invalid', 'The step-up assertion is for another user.');
    return {
      userId,
      method: claims.data.mth,
      credentialId: claims.data.cid ?? null,
      aal: claims.data.aal,
      amr: claims.data.amr,
      authenticatedAt: new Date(claims.data.auth_time * 1000),
      recovery: claims.data.rcv ? { recoveryId: claims.data.rcv.id, passExpiresAt: new Date(claims.data.rcv.exp * 1000) } : undefined,
    };
  }

  /**
   * S21: what authorises binding or removing a factor. A step-up assertion when one is presented;
   * without one, only the sign-in session itself, at AAL1 and as old as the bearer token, which
   * the decider accepts only while the account has no usable factor (its first enrolment).
   */
  async bindingAuthorization(header: string | undefined, principal: Principal, userId: string, now: Date): Promise<BindingAuthorization> {
    if (header === undefined || header === '') {
      return { kind: 'step_up', level: 1, authenticatedAt: principal.issuedAt ?? new Date(now.getTime() - STEP_UP_MAX_AGE_MS - 1) };
    }
    const facts = await this.verify(header, userId, now);
    if (facts.recovery) {
      // Passes are issued only for completed recoveries (IssueTemporaryAccessPass).
      return { kind: 'recovery_tap', recoveryId: facts.recovery.recoveryId, recoveryCompleted: true, tapExpiresAt: facts.recovery.passExpiresAt };
    }
    return { kind: 'step_up', level: facts.aal, authenticatedAt: facts.authenticatedAt };
  }
}
