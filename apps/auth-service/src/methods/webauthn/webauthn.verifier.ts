import { Inject, Injectable } from '@nestjs/common';
import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { type AuthMethods, webAuthnVerificationOptions } from '@tessera/auth-domain';
import { CONFIG, DATA_SOURCE } from '@tessera/platform';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { AUTH_METHODS } from '../../common/tokens';
import type { AuthServiceConfig } from '../../config/auth-config';
import type { AttemptInput, MethodVerifier, PreparedAttempt } from '../method-verifier';
import { ChallengeStore, presentedChallenge } from './challenge.store';
import { webAuthnProofSchema } from './webauthn.schemas';
import type { WebAuthnKeyRow } from './webauthn.service';

/**
 * WebAuthn assertions: the key is looked up by its id AND the user of the ceremony (S17); the library
 * checks signature, origin and RP ID (S16); the challenge must be this user's, unexpired and unused, and
 * is burnt by any attempt (S15, so a replayed assertion fails); the counter rule (S19) is the decider's.
 * The library is given a stored counter of 0 so that it never throws on a regression itself: the
 * decider must see it to raise PossibleClonedAuthenticatorDetected.
 */
@Injectable()
export class WebAuthnVerifier implements MethodVerifier {
  readonly method = 'webauthn' as const;
  readonly kind = 'webauthn' as const;
  readonly proofSchema = webAuthnProofSchema;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ChallengeStore) private readonly challenges: ChallengeStore,
    @Inject(AUTH_METHODS) private readonly methods: AuthMethods,
    @Inject(CONFIG) private readonly config: AuthServiceConfig,
  ) {}

  async prepare({ userId, proof, now }: AttemptInput): Promise<PreparedAttempt> {
    const { challengeId, response } = proof as z.infer<typeof webAuthnProofSchema>;
    const assertion = response as unknown as AuthenticationResponseJSON;
    const burn = async (manager: Parameters<NonNullable<PreparedAttempt['always']>>[0]) => {
      await this.challenges.consume(manager, challengeId, now);
    };
    const stored = await this.challenges.find(challengeId, userId, 'authentication');
    const [key]: WebAuthnKeyRow[] = await this.dataSource.query(
      `SELECT credential_id, user_id, webauthn_id, public_key, sign_count, transports FROM webauthn_keys WHERE webauthn_id = $1 AND user_id = $2`,
      [assertion.id, userId],
    );
    if (key === undefined) {
      return { credentialId: null, evidence: { kind: 'webauthn', outcome: 'assertion_invalid' }, always: stored ? burn : undefined };
    }
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
          credential: { id: key.webauthn_id, publicKey: new Uint8Array(key.public_key), counter: 0, transports: key.transports },
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
      { ownerUserId: key.user_id },
      {
        ceremonyUserId: userId,
        challenge: { stored, presented: presentedChallenge(assertion.response.clientDataJSON) },
        verified,
        userVerified,
        signCount: Math.max(signCount, 0),
      },
      now,
    );
    if (evidence.outcome !== 'match') return { credentialId: key.credential_id, evidence, always: stored ? burn : undefined };
    return {
      credentialId: key.credential_id,
      evidence,
      commit: async (manager) => {
        if (!(await this.challenges.consume(manager, challengeId, now))) return false;
        // S19: the counter is stored after every success.
        await manager.query(`UPDATE webauthn_keys SET sign_count = $2 WHERE credential_id = $1`, [key.credential_id, evidence.signCount]);
        return true;
      },
      always: burn,
    };
  }
}
