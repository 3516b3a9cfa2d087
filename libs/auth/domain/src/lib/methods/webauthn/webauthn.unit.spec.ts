import { DomainError } from '@tessera/event-sourcing';
import { recordingRandom } from '../../testing/fixtures';
import {
  assertCredentialOwnedBy,
  checkChallenge,
  checkSignCount,
  createWebAuthnMethod,
  issueChallenge,
  WEBAUTHN_MIN_CHALLENGE_BYTES,
  WEBAUTHN_POLICY,
  type WebAuthnAssertionFacts,
  webAuthnAmr,
  webAuthnCeremonyOptions,
  webAuthnLevel,
  webAuthnRegistrationOptions,
  webAuthnVerificationOptions,
} from './webauthn';

const now = new Date('2026-03-01T09:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);

describe('WebAuthn rules', () => {
  describe('S19: signature counter', () => {
    it.each([
      [0, 0, { outcome: 'accepted', store: 0 }],
      [0, 1, { outcome: 'accepted', store: 1 }],
      [5, 6, { outcome: 'accepted', store: 6 }],
      [5, 1000, { outcome: 'accepted', store: 1000 }],
      [5, 5, { outcome: 'possible_clone' }],
      [5, 4, { outcome: 'possible_clone' }],
      [5, 0, { outcome: 'possible_clone' }],
      [1, 0, { outcome: 'possible_clone' }],
    ])('S19: stored %p, presented %p → %p', (stored, presented, expected) => {
      expect(checkSignCount(stored, presented)).toEqual(expected);
    });
  });

  describe('S15: challenges', () => {
    const challenge = issueChallenge(recordingRandom('challenge'), now, 'user-1');

    it('S15: a challenge has at least 64 bits (256 here) from the injected CSPRNG and expires after 60 s', () => {
      expect(Buffer.from(challenge.challenge, 'base64url').byteLength).toBe(32);
      expect(WEBAUTHN_POLICY.challengeBytes).toBeGreaterThanOrEqual(WEBAUTHN_MIN_CHALLENGE_BYTES);
      expect(WEBAUTHN_MIN_CHALLENGE_BYTES * 8).toBe(64);
      expect(challenge.expiresAt).toEqual(later(60_000));
      expect(challenge.consumedAt).toBeNull();
    });

    it('S15: the right challenge within 60 s is accepted and consumed by a conditional write', () => {
      expect(checkChallenge(challenge, challenge.challenge, later(59_999))).toEqual({ ok: true, commit: { kind: 'mark_used', at: later(59_999) } });
    });

    it.each([
      ['unknown_challenge', () => checkChallenge(undefined, challenge.challenge, now)],
      ['challenge_expired', () => checkChallenge(challenge, challenge.challenge, later(60_000))],
      ['challenge_used', () => checkChallenge({ ...challenge, consumedAt: now }, challenge.challenge, now)],
      ['challenge_mismatch', () => checkChallenge(challenge, `${challenge.challenge.slice(0, -1)}A`, now)],
      ['challenge_mismatch', () => checkChallenge(challenge, 'short', now)],
    ])('S15: refused as %s', (reason, check) => {
      expect(check()).toEqual({ ok: false, reason });
    });
  });

  describe('S17: the credential belongs to the ceremony user', () => {
    it('S17: a credential of another user is refused outright', () => {
      expect(() => assertCredentialOwnedBy('user-2', 'user-1')).toThrow(DomainError);
      expect(() => assertCredentialOwnedBy('user-1', 'user-1')).not.toThrow();
    });

    it('S17: the method refuses before looking at the assertion', async () => {
      const challenge = issueChallenge(recordingRandom(), now, 'user-1');
      const facts: WebAuthnAssertionFacts = {
        ceremonyUserId: 'user-1',
        challenge: { stored: challenge, presented: challenge.challenge },
        verified: true,
        userVerified: true,
        signCount: 3,
      };
      await expect(createWebAuthnMethod().verify({ ownerUserId: 'user-2' }, facts, now)).rejects.toMatchObject({ code: 'credential_not_owned' });
    });
  });

  describe('S18: one user-verification policy for options and verification', () => {
    it('S18: options ask for "required" and verification requires it: both read the same constant', () => {
      expect(webAuthnCeremonyOptions().userVerification).toBe(WEBAUTHN_POLICY.userVerification);
      expect(webAuthnVerificationOptions().requireUserVerification).toBe(WEBAUTHN_POLICY.userVerification === 'required');
      expect(WEBAUTHN_POLICY.userVerification).toBe('required');
      expect(webAuthnRegistrationOptions()).toEqual({ userVerification: 'required', timeout: 60_000, attestationType: 'none' });
    });

    it('S18: an assertion without user verification is invalid even if its signature verified', async () => {
      const challenge = issueChallenge(recordingRandom(), now, 'user-1');
      const facts: WebAuthnAssertionFacts = {
        ceremonyUserId: 'user-1',
        challenge: { stored: challenge, presented: challenge.challenge },
        verified: true,
        userVerified: false,
        signCount: 3,
      };
      const method = createWebAuthnMethod();
      expect(await method.verify({ ownerUserId: 'user-1' }, facts, now)).toEqual({ evidence: { kind: 'webauthn', outcome: 'assertion_invalid' }, commit: null });
      expect(await method.verify({ ownerUserId: 'user-1' }, { ...facts, userVerified: true }, now)).toEqual({
        evidence: { kind: 'webauthn', outcome: 'match', signCount: 3 },
        commit: { kind: 'mark_used', at: now },
      });
    });

    it('S16: an assertion the library did not verify (origin, RP ID, signature) is invalid', async () => {
      const challenge = issueChallenge(recordingRandom(), now, 'user-1');
      const facts: WebAuthnAssertionFacts = {
        ceremonyUserId: 'user-1',
        challenge: { stored: challenge, presented: challenge.challenge },
        verified: false,
        userVerified: true,
        signCount: 3,
      };
      expect((await createWebAuthnMethod().verify({ ownerUserId: 'user-1' }, facts, now)).evidence.outcome).toBe('assertion_invalid');
    });
  });

  it('a device-bound key reaches AAL3 and reports hwk; a synced passkey AAL2 and swk', () => {
    expect(webAuthnLevel(true)).toBe(3);
    expect(webAuthnLevel(false)).toBe(2);
    expect(webAuthnAmr(true)).toEqual(['pop', 'user', 'mfa', 'hwk']);
    expect(webAuthnAmr(false)).toEqual(['pop', 'user', 'mfa', 'swk']);
  });
});
