import { Inject, Injectable } from '@nestjs/common';
import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { type AuthMethods, type StoredChallenge, webAuthnVerificationOptions } from '@tessera/auth-domain';
import { fromJson, GATE, type JoinableRead, type StatementWrite } from '@tessera/event-store';
import { CONFIG } from '@tessera/platform';
import type { z } from 'zod';
import { AUTH_METHODS } from '../../common/tokens';
import type { AuthServiceConfig } from '../../config/auth-config';
import type { AttemptInput, MethodVerifier, PreparedAttempt } from '../method-verifier';
import { presentedChallenge } from './challenge.store';
import { webAuthnProofSchema } from './webauthn.schemas';

interface AssertionMaterial {
  /** The challenge of this user's authentication ceremony, if it exists (S15). */
  readonly challenge: StoredChallenge | undefined;
  /** The key named by the assertion, if it is this user's (S17). */
  readonly key: { credentialId: string; userId: string; webauthnId: string; publicKey: Buffer; transports: string[] } | undefined;
}

interface MaterialRow {
  challenge: string | null;
  expires_at: string | null;
  consumed_at: string | null;
  credential_id: string | null;
  user_id: string | null;
  webauthn_id: string | null;
  /** bytea, as JSON gives it (see fromJson). */
  public_key: string | null;
  transports: string[] | null;
}

/**
 * WebAuthn assertions: the key is looked up by its id AND the user of the ceremony (S17); the library
 * checks signature, origin and RP ID (S16); the challenge must be this user's, unexpired and unused, and
 * is burnt by any attempt (S15, so a replayed assertion fails); the counter rule (S19) is the decider's.
 * The library is given a stored counter of 0 so that it never throws on a regression itself: the
 * decider must see it to raise PossibleClonedAuthenticatorDetected.
 */
@Injectable()
export class WebAuthnVerifier implements MethodVerifier<AssertionMaterial> {
  readonly method = 'webauthn' as const;
  readonly kind = 'webauthn' as const;
  readonly proofSchema = webAuthnProofSchema;

  constructor(
    @Inject(AUTH_METHODS) private readonly methods: AuthMethods,
    @Inject(CONFIG) private readonly config: AuthServiceConfig,
  ) {}

  /** The challenge and the key in one query: each side may be missing, hence the joins on one row. */
  read({ userId, proof }: AttemptInput): JoinableRead<AssertionMaterial> {
    const { challengeId, response } = proof as z.infer<typeof webAuthnProofSchema>;
    return {
      sql: `SELECT c.challenge, c.expires_at, c.consumed_at, k.credential_id, k.user_id, k.webauthn_id, k.public_key, k.transports
              FROM (SELECT 1) AS one
              LEFT JOIN webauthn_challenges c ON c.challenge_id = $1 AND c.user_id = $2 AND c.ceremony = 'authentication'
              LEFT JOIN webauthn_keys k ON k.webauthn_id = $3 AND k.user_id = $2`,
      params: [challengeId, userId, response.id],
      decode: ([row]) => {
        const material = row as unknown as MaterialRow;
        return {
          challenge:
            material.challenge === null
              ? undefined
              : { challenge: material.challenge, userId, expiresAt: fromJson.date(material.expires_at), consumedAt: material.consumed_at === null ? null : fromJson.date(material.consumed_at) },
          key:
            material.credential_id === null
              ? undefined
              : {
                  credentialId: material.credential_id,
                  userId: material.user_id!,
                  webauthnId: material.webauthn_id!,
                  publicKey: fromJson.bytes(material.public_key),
                  transports: material.transports ?? [],
                },
        };
      },
    };
  }

  async check({ challenge: stored, key }: AssertionMaterial, { userId, proof, now }: AttemptInput): Promise<PreparedAttempt> {
    const { challengeId, response } = proof as z.infer<typeof webAuthnProofSchema>;
    const assertion = response as unknown as AuthenticationResponseJSON;
    const burn: StatementWrite[] = stored
      ? [{ sql: `UPDATE webauthn_challenges SET consumed_at = $2 WHERE challenge_id = $1 AND consumed_at IS NULL AND ${GATE}`, params: [challengeId, now] }]
      : [];
    if (key === undefined) return { credentialId: null, evidence: { kind: 'webauthn', outcome: 'assertion_invalid' }, onFailure: burn };
    let verified = false;
    let userVerified = false;
    let signCount = -1;
    if (stored !== undefined) {
      try {
        const result = await verifyAuthenticationResponse({
          response: assertion,
          expectedChallenge: stored.challenge,
          expectedOrigin: this.config.AUTH_WEBAUTHN_ORIGINS,
          expectedRPID: this.config.AUTH_WEBAUTHN_RP_ID,
          credential: { id: key.webauthnId, publicKey: new Uint8Array(key.publicKey), counter: 0, transports: key.transports as never },
          ...webAuthnVerificationOptions(),
        });
        verified = result.verified;
        userVerified = result.authenticationInfo.userVerified;
        signCount = result.authenticationInfo.newCounter;
      } catch {
        verified = false;
      }
    }
    const { evidence } = await this.methods.webauthn.verify(
      { ownerUserId: key.userId },
      {
        ceremonyUserId: userId,
        challenge: { stored, presented: presentedChallenge(assertion.response.clientDataJSON) },
        verified,
        userVerified,
        signCount: Math.max(signCount, 0),
      },
      now,
    );
    if (evidence.outcome !== 'match') return { credentialId: key.credentialId, evidence, onFailure: burn };
    return {
      credentialId: key.credentialId,
      evidence,
      onSuccess: [
        // S15: consuming the challenge is what makes the assertion single use.
        { sql: `UPDATE webauthn_challenges SET consumed_at = $2 WHERE challenge_id = $1 AND consumed_at IS NULL AND ${GATE}`, params: [challengeId, now], guard: true },
        // S19: the counter is stored after every success.
        { sql: `UPDATE webauthn_keys SET sign_count = $2 WHERE credential_id = $1 AND ${GATE}`, params: [key.credentialId, evidence.signCount] },
      ],
    };
  }
}
