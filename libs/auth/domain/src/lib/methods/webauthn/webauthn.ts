import { type Aal, type AmrValue } from '@tessera/contracts';
import { constantTimeEqual } from '@tessera/crypto';
import { DomainError } from '@tessera/event-sourcing';
import { drawBytes, type RandomSource } from '../../crypto/random';
import { type AuthMethod, type ConditionalWrite, type MethodDescriptor, type WebAuthnEvidence } from '../method';

/**
 * Pure WebAuthn rules. The signature, origin and RP ID are checked by the WebAuthn library at the
 * edge (S16); what the relying party must decide itself lives here.
 */
export const WEBAUTHN_DESCRIPTOR: MethodDescriptor<'webauthn'> = {
  id: 'webauthn',
  // A device-bound key with user verification is a multi-factor cryptographic authenticator (AAL3);
  // a synced passkey reaches AAL2 (see webAuthnLevel).
  aal: 3,
  amr: ['pop', 'user', 'mfa'],
  guessable: false,
  restricted: false,
  phishingResistant: true,
};

/**
 * S18: one policy for both halves of a ceremony. The options sent to the browser and the verification
 * of its response read the same constant, so they cannot drift apart (e.g. options saying
 * "preferred" while verification assumes UV happened). UV is required: the key then counts as
 * multi-factor on its own, which is what lets a passkey sign-in lift the S8 lock. Attestation `none`
 * by default (S20).
 */
export const WEBAUTHN_POLICY = {
  userVerification: 'required',
  attestation: 'none',
  /** S15: 256-bit challenges (the floor is 64 bits). */
  challengeBytes: 32,
  /** S15: a challenge expires 60 s after issue; the browser timeout matches. */
  challengeTtlMs: 60_000,
} as const;

export const WEBAUTHN_MIN_CHALLENGE_BYTES = 8;

/** For the WebAuthn library's generate*Options calls (registration and authentication alike). */
export function webAuthnCeremonyOptions() {
  return { userVerification: WEBAUTHN_POLICY.userVerification, timeout: WEBAUTHN_POLICY.challengeTtlMs };
}

/** Registration options add the attestation conveyance (S20: `none`). */
export function webAuthnRegistrationOptions() {
  return { ...webAuthnCeremonyOptions(), attestationType: WEBAUTHN_POLICY.attestation };
}

/** For the WebAuthn library's verify*Response calls. */
export function webAuthnVerificationOptions() {
  return { requireUserVerification: WEBAUTHN_POLICY.userVerification === 'required' };
}

/** A challenge as stored server-side (S15): the caller keys it by ceremony id. */
export interface StoredChallenge {
  /** base64url, as WebAuthn clients echo it in clientDataJSON. */
  readonly challenge: string;
  /** The user the ceremony is for; null for a discoverable-credential sign-in. */
  readonly userId: string | null;
  readonly expiresAt: Date;
  readonly consumedAt: Date | null;
}

export function issueChallenge(random: RandomSource, now: Date, userId: string | null): StoredChallenge {
  if (WEBAUTHN_POLICY.challengeBytes < WEBAUTHN_MIN_CHALLENGE_BYTES) throw new Error('challenge below 64 bits (S15)');
  return {
    challenge: Buffer.from(drawBytes(random, WEBAUTHN_POLICY.challengeBytes)).toString('base64url'),
    userId,
    expiresAt: new Date(now.getTime() + WEBAUTHN_POLICY.challengeTtlMs),
    consumedAt: null,
  };
}

export type ChallengeCheck =
  | { readonly ok: true; readonly commit: ConditionalWrite }
  | { readonly ok: false; readonly reason: 'unknown_challenge' | 'challenge_expired' | 'challenge_used' | 'challenge_mismatch' };

/** S15: known, unexpired, unused, equal — and consumed by a conditional write so it is single use. */
export function checkChallenge(stored: StoredChallenge | undefined, presented: string, now: Date): ChallengeCheck {
  if (stored === undefined) return { ok: false, reason: 'unknown_challenge' };
  if (now.getTime() >= stored.expiresAt.getTime()) return { ok: false, reason: 'challenge_expired' };
  if (stored.consumedAt !== null) return { ok: false, reason: 'challenge_used' };
  if (!constantTimeEqual(presented, stored.challenge)) {
    return { ok: false, reason: 'challenge_mismatch' };
  }
  return { ok: true, commit: { kind: 'mark_used', at: now } };
}

export type SignCountDecision = { readonly outcome: 'accepted'; readonly store: number } | { readonly outcome: 'possible_clone' };

/**
 * S19 (WebAuthn §6.1.1 signature counter considerations): if either counter is non-zero the new one
 * must be strictly greater than the stored one; otherwise two copies of the key may exist. An
 * authenticator that keeps no counter reports 0 forever, and 0 after 0 is accepted. The accepted value
 * is stored after every success.
 */
export function checkSignCount(stored: number, presented: number): SignCountDecision {
  if (stored === 0 && presented === 0) return { outcome: 'accepted', store: 0 };
  return presented > stored ? { outcome: 'accepted', store: presented } : { outcome: 'possible_clone' };
}

/**
 * S17: the credential used must belong to the user of the ceremony — the caller looks it up by
 * credential id AND user id, and this is the rule that lookup encodes. A mismatch is refused outright,
 * never recorded against either user.
 */
export function assertCredentialOwnedBy(ownerUserId: string, ceremonyUserId: string): void {
  if (ownerUserId !== ceremonyUserId) {
    throw new DomainError('credential_not_owned', 'the credential does not belong to the user of this ceremony', 'forbidden');
  }
}

/**
 * 63B-4: a key that cannot leave its authenticator (not backup-eligible) and is unlocked by user
 * verification meets AAL3; a synced passkey can be exported by its sync fabric and stays at AAL2.
 */
export function webAuthnLevel(deviceBound: boolean): Aal {
  return deviceBound ? WEBAUTHN_DESCRIPTOR.aal : 2;
}

/** RFC 8176: `hwk` for a hardware-held key, `swk` for a synced (software-held) one. */
export function webAuthnAmr(deviceBound: boolean): AmrValue[] {
  return [...WEBAUTHN_DESCRIPTOR.amr, deviceBound ? 'hwk' : 'swk'];
}

/** What the WebAuthn library established about one assertion, plus the ceremony it belongs to. */
export interface WebAuthnAssertionFacts {
  readonly ceremonyUserId: string;
  readonly challenge: { readonly stored: StoredChallenge | undefined; readonly presented: string };
  /** Signature, origin and RP ID verified (S16). */
  readonly verified: boolean;
  readonly userVerified: boolean;
  readonly signCount: number;
}

export function createWebAuthnMethod(): AuthMethod<'webauthn', { readonly ownerUserId: string }, WebAuthnAssertionFacts> {
  return {
    descriptor: WEBAUTHN_DESCRIPTOR,
    async verify(stored, facts, now) {
      assertCredentialOwnedBy(stored.ownerUserId, facts.ceremonyUserId);
      const challenge = checkChallenge(facts.challenge.stored, facts.challenge.presented, now);
      const invalid = { evidence: { kind: 'webauthn', outcome: 'assertion_invalid' }, commit: null } as const;
      if (!challenge.ok || !facts.verified) return invalid;
      if (webAuthnVerificationOptions().requireUserVerification && !facts.userVerified) return invalid;
      if (!Number.isInteger(facts.signCount) || facts.signCount < 0) return invalid;
      // The counter rule needs the stored counter, which the credentials decider holds (S19).
      return { evidence: { kind: 'webauthn', outcome: 'match', signCount: facts.signCount } satisfies WebAuthnEvidence, commit: challenge.commit };
    },
  };
}
