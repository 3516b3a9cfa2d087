import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import {
  type BindingAuthorization,
  checkChallenge,
  WEBAUTHN_POLICY,
  webAuthnCeremonyOptions,
  webAuthnRegistrationOptions,
  webAuthnVerificationOptions,
} from '@tessera/auth-domain';
import type { Actor } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { isUniqueViolation } from '@tessera/event-store';
import { CONFIG, DATA_SOURCE } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { DataSource } from 'typeorm';
import type { AuthServiceConfig } from '../../config/auth-config';
import { AccountService } from '../../credentials/account.service';
import { ChallengeStore, presentedChallenge } from './challenge.store';

export interface WebAuthnKeyRow {
  credential_id: string;
  user_id: string;
  webauthn_id: string;
  public_key: Buffer;
  sign_count: string;
  transports: string[];
}

/** WebAuthn ceremonies (W3C WebAuthn Level 3 §7) with @simplewebauthn/server; the rules are auth-domain's. */
@Injectable()
export class WebAuthnService {
  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(ChallengeStore) private readonly challenges: ChallengeStore,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: AuthServiceConfig,
  ) {}

  keysOf(userId: string): Promise<WebAuthnKeyRow[]> {
    return this.dataSource.query(
      `SELECT credential_id, user_id, webauthn_id, public_key, sign_count, transports FROM webauthn_keys WHERE user_id = $1`,
      [userId],
    );
  }

  /** Registration options; S18: user verification `required`, S20: attestation `none`. */
  async registrationOptions(userId: string, now: Date) {
    const { challengeId, challenge } = await this.challenges.issue(userId, 'registration', now);
    const existing = await this.keysOf(userId);
    const options = await generateRegistrationOptions({
      rpName: this.config.AUTH_WEBAUTHN_RP_NAME,
      rpID: this.config.AUTH_WEBAUTHN_RP_ID,
      userName: userId,
      // The user handle must not carry personal data (WebAuthn §14.6.1): a hash of the user id.
      userID: createHash('sha256').update(`tessera-user-handle:${userId}`).digest(),
      challenge: Buffer.from(challenge.challenge, 'base64url'),
      ...webAuthnRegistrationOptions(),
      authenticatorSelection: { residentKey: 'preferred', userVerification: WEBAUTHN_POLICY.userVerification },
      // Several keys per user (S20), but never the same key twice.
      excludeCredentials: existing.map((key) => ({ id: key.webauthn_id, transports: key.transports })),
    });
    return { challengeId, expiresAt: challenge.expiresAt.toISOString(), options };
  }

  async register(
    userId: string,
    body: { challengeId: string; name: string; response: unknown },
    authorization: BindingAuthorization,
    actor: Actor,
    now: Date,
  ) {
    const response = body.response as RegistrationResponseJSON;
    const stored = await this.challenges.find(body.challengeId, userId, 'registration');
    const check = checkChallenge(stored, presentedChallenge(response.response.clientDataJSON), now);
    if (!check.ok) throw new DomainError(check.reason, 'the registration challenge is unknown, expired, used or does not match (S15)', 'invalid');
    let info;
    try {
      const verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: stored!.challenge,
        expectedOrigin: this.config.AUTH_WEBAUTHN_ORIGINS,
        expectedRPID: this.config.AUTH_WEBAUTHN_RP_ID,
        ...webAuthnVerificationOptions(),
      });
      if (!verified.verified) throw new Error('not verified');
      info = verified.registrationInfo;
    } catch {
      // The library's message may quote client data; the answer names the failure only (S16).
      throw new DomainError('registration_invalid', 'the registration response did not verify (origin, RP ID, challenge, signature or user verification)', 'invalid');
    }
    const credentialId = uuidv7(now.getTime());
    // Not backup-eligible: the private key cannot leave the authenticator (AAL3); a synced passkey is AAL2.
    const deviceBound = info.credentialDeviceType === 'singleDevice';
    try {
      await this.accounts.execute(
        {
          type: 'RegisterWebAuthnCredential',
          userId,
          now,
          credentialId,
          name: body.name,
          aaguid: info.aaguid.toLowerCase(),
          deviceBound,
          signCount: info.credential.counter,
          authorization,
        },
        actor,
        async (manager) => {
          if (!(await this.challenges.consume(manager, body.challengeId, now))) {
            throw new DomainError('challenge_used', 'the registration challenge was already used (S15)', 'invalid');
          }
          await manager.query(
            `INSERT INTO webauthn_keys (credential_id, user_id, webauthn_id, public_key, sign_count, transports, aaguid, device_bound)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [credentialId, userId, info.credential.id, Buffer.from(info.credential.publicKey), info.credential.counter, info.credential.transports ?? [], info.aaguid.toLowerCase(), deviceBound],
          );
        },
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError('credential_exists', 'this authenticator is already registered');
      throw error;
    }
    return { factorId: credentialId, name: body.name.trim(), aaguid: info.aaguid.toLowerCase(), deviceBound, status: 'active' as const };
  }

  /** Authentication options for a user's keys (S17: only theirs are allowed). */
  async authenticationOptions(userId: string, now: Date) {
    const keys = await this.keysOf(userId);
    if (keys.length === 0) throw new DomainError('no_webauthn_credentials', 'the user has no passkey or security key', 'not_found');
    const { challengeId, challenge } = await this.challenges.issue(userId, 'authentication', now);
    const options = await generateAuthenticationOptions({
      rpID: this.config.AUTH_WEBAUTHN_RP_ID,
      allowCredentials: keys.map((key) => ({ id: key.webauthn_id, transports: key.transports })),
      challenge: Buffer.from(challenge.challenge, 'base64url'),
      ...webAuthnCeremonyOptions(),
    });
    return { challengeId, expiresAt: challenge.expiresAt.toISOString(), options };
  }
}
