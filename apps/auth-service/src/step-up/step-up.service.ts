import { sign } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type BindingAuthorization, STEP_UP_MAX_AGE_MS } from '@tessera/auth-domain';
import { type Aal, type AmrValue, aalSchema, amrValueSchema } from '@tessera/contracts';
import { ApiError, CONFIG, type Principal } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import { createLocalJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
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
  /** The JWS protected header never changes: encoded once (RFC 7515 §7.1 compact serialisation). */
  private readonly encodedHeader: string;

  constructor(
    @Inject(AUTH_KEYS) private readonly keys: AuthKeys,
    @Inject(CONFIG) private readonly config: AuthServiceConfig,
  ) {
    this.localKeys = createLocalJWKSet({ keys: [...keys.stepUpJwks] as never });
    this.encodedHeader = base64url({ alg: 'ES256', kid: keys.stepUpKeyId, typ: TOKEN_TYPE });
  }

  jwks(): { keys: readonly PublicJwk[] } {
    return { keys: this.keys.stepUpJwks };
  }

  /**
   * Signs with node:crypto directly (ES256 = ECDSA P-256 with SHA-256): synchronous, and a fraction of
   * the cost of going through WebCrypto for every verification. The key goes in as the KeyObject itself
   * (an options object costs Node 24 more than the signature), so OpenSSL answers DER, turned into the
   * 64-byte r‖s that RFC 7518 §3.4 wants. Assertions are checked with jose (`verify`) and by callers'
   * JOSE libraries.
   */
  issue(facts: StepUpFacts, now: Date): IssuedAssertion {
    const jti = uuidv7(now.getTime());
    const issuedAt = Math.floor(now.getTime() / 1000);
    const expiresAt = new Date((issuedAt + this.config.AUTH_STEP_UP_TTL_SECONDS) * 1000);
    const claims = {
      iss: this.config.AUTH_STEP_UP_ISSUER,
      sub: facts.userId,
      aud: this.config.AUTH_STEP_UP_AUDIENCE,
      exp: Math.floor(expiresAt.getTime() / 1000),
      nbf: issuedAt,
      iat: issuedAt,
      jti,
      aal: facts.aal,
      acr: `urn:tessera:aal${facts.aal}`,
      amr: [...facts.amr],
      auth_time: Math.floor(facts.authenticatedAt.getTime() / 1000),
      mth: facts.method,
      cid: facts.credentialId,
      ...(facts.recovery ? { rcv: { id: facts.recovery.recoveryId, exp: Math.floor(facts.recovery.passExpiresAt.getTime() / 1000) } } : {}),
    };
    const signingInput = `${this.encodedHeader}.${base64url(claims)}`;
    const signature = derToJose(sign('sha256', Buffer.from(signingInput), this.keys.stepUpSigningKey));
    return { assertion: `${signingInput}.${signature.toString('base64url')}`, jti, expiresAt };
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

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * An ECDSA P-256 signature from DER (SEQUENCE { INTEGER r, INTEGER s }, X.690) to the JWS form: r and s
 * as 32-byte unsigned big-endian numbers, concatenated (RFC 7518 §3.4). A P-256 DER signature is at
 * most 72 bytes, so every length fits in one byte.
 */
export function derToJose(der: Buffer): Buffer {
  if (der[0] !== 0x30 || der[1] !== der.length - 2) throw new Error('not a DER ECDSA signature');
  const out = Buffer.alloc(64);
  let offset = 2;
  for (const half of [0, 32]) {
    if (der[offset] !== 0x02) throw new Error('not a DER ECDSA signature');
    const length = der[offset + 1];
    let integer = der.subarray(offset + 2, offset + 2 + length);
    while (integer.length > 32 && integer[0] === 0) integer = integer.subarray(1); // the sign byte
    if (integer.length > 32) throw new Error('not a P-256 signature');
    integer.copy(out, half + 32 - integer.length);
    offset += 2 + length;
  }
  return out;
}
