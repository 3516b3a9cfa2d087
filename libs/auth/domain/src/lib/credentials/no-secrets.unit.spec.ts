import { AUTH_EVENT_SCHEMAS, AUTH_EVENT_TYPES, type AuthEvent } from '@tessera/contracts';
import { generateBackupCodes, parseBackupCode } from '../methods/backup-codes/backup-codes';
import { DEFAULT_RESTRICTED_FACTOR_POLICY, issueOutOfBandCode } from '../methods/email-sms/out-of-band-code';
import { type VerificationEvidence } from '../methods/method';
import { createAuthMethods } from '../methods/registry';
import { buildOtpauthUri, encodeBase32Secret, parseOtpauthUri } from '../methods/totp/otpauth-uri';
import { generateTotpCode, generateTotpSecret, type TotpSeed } from '../methods/totp/totp';
import { issueChallenge } from '../methods/webauthn/webauthn';
import { recordingRandom } from '../testing/fixtures';
import { credentialsDecider, type CredentialsCommand, type StepUp } from './credentials-decider';
import { type CredentialsState } from './credentials-state';

/**
 * Adversarial check of "no secret ever enters an event" (DESIGN.md "Events"; S29): drive a full
 * life — enrolment, import, sign-ins with every method, failures, throttling, a cloned key, backup
 * codes running low, revocation, a freeze — through the real methods and the decider, then search
 * every event for every secret that existed along the way.
 */
type CommandBody = CredentialsCommand extends infer C ? (C extends unknown ? Omit<C, 'userId' | 'now'> : never) : never;

describe('no secret in any event (S29)', () => {
  const USER = 'alice-42';
  const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`;
  const random = recordingRandom('no-secrets');
  const pepper = random(32);
  const methods = createAuthMethods({ outOfBandPepper: pepper });
  const policy = DEFAULT_RESTRICTED_FACTOR_POLICY;

  /** Everything secret or private that passed through the scenario. */
  const secrets: string[] = [];
  /** Short numeric codes, matched only as whole numbers (a timestamp may contain the same digits). */
  const numericCodes: string[] = [];
  const events: AuthEvent[] = [];

  const keepBytes = (bytes: Uint8Array) => {
    const buffer = Buffer.from(bytes);
    secrets.push(buffer.toString('hex'), buffer.toString('base64'), buffer.toString('base64url'), encodeBase32Secret(bytes));
  };

  beforeAll(async () => {
    let state: CredentialsState = credentialsDecider.initialState();
    let clock = new Date('2026-03-01T09:00:00.000Z');
    const tick = (ms: number) => (clock = new Date(clock.getTime() + ms));
    const run = (command: CommandBody) => {
      const produced = credentialsDecider.decide({ ...command, userId: USER, now: clock } as CredentialsCommand, state);
      for (const event of produced) state = credentialsDecider.evolve(state, event);
      events.push(...produced);
      return produced;
    };
    const stepUp = (level: 1 | 2 | 3): StepUp => ({ kind: 'step_up', level, authenticatedAt: new Date(clock.getTime() - 30_000) });
    const verify = (credentialId: string | null, evidence: VerificationEvidence) => run({ type: 'RecordVerification', credentialId, evidence, policy });
    keepBytes(pepper);

    // TOTP: generate, show as a URI, confirm, sign in.
    const seed: TotpSeed = { secret: generateTotpSecret(random), algorithm: 'SHA1', digits: 6, period: 30 };
    keepBytes(seed.secret);
    secrets.push(buildOtpauthUri({ ...seed, issuer: 'Tessera', accountName: 'alice@example.com' }));
    run({ type: 'EnrollTotp', credentialId: id(1), name: 'Phone', ...seed, source: 'generated', authorization: stepUp(1) });
    let code = generateTotpCode(seed, clock);
    numericCodes.push(code);
    const confirmation = await methods.totp.verify({ seed, lastAcceptedStep: null }, { code }, clock);
    run({ type: 'ConfirmTotp', credentialId: id(1), evidence: confirmation.evidence });
    tick(30_000);
    code = generateTotpCode(seed, clock);
    numericCodes.push(code);
    verify(id(1), (await methods.totp.verify({ seed, lastAcceptedStep: null }, { code }, clock)).evidence);

    // Backup codes: generate, use seven (down to the low threshold), keep every secret part.
    const backup = await generateBackupCodes(random);
    for (const backupCode of backup.codes) secrets.push(backupCode, backupCode.replace(/-/g, ''), parseBackupCode(backupCode)!.secret);
    for (const row of backup.rows) {
      keepBytes(row.hash);
      keepBytes(row.salt);
    }
    run({ type: 'GenerateBackupCodes', credentialId: id(2), count: backup.codes.length, authorization: stepUp(2) });
    for (let i = 0; i < 7; i++) {
      const row = backup.rows.find((candidate) => candidate.index === parseBackupCode(backup.codes[i])!.index);
      verify(id(2), (await methods.backup_codes.verify(row, { code: backup.codes[i] }, clock)).evidence);
      tick(60_000);
    }

    // Email and SMS channels; an SMS code issued and used.
    secrets.push('alice@example.com', '+4915112345689');
    run({ type: 'AddOutOfBandChannel', channel: 'sms_otp', credentialId: id(3), destination: '+4915112345689', policy, authorization: stepUp(2) });
    run({ type: 'AddOutOfBandChannel', channel: 'email_otp', credentialId: id(4), destination: 'alice@example.com', policy, authorization: stepUp(2) });
    const sms = issueOutOfBandCode({ channel: 'sms_otp', policy, now: clock }, { random, pepper });
    numericCodes.push(sms.code);
    keepBytes(sms.record.mac);
    keepBytes(sms.record.salt);
    verify(id(3), (await methods.sms_otp.verify(sms.record, { code: sms.code }, clock)).evidence);

    // A security key; a sign-in; then the same counter again (a clone).
    run({ type: 'RegisterWebAuthnCredential', credentialId: id(5), name: 'YubiKey', aaguid: 'ee882879-721c-4913-9775-3dfcce97072a', deviceBound: true, signCount: 0, authorization: stepUp(2) });
    for (let attempt = 0; attempt < 2; attempt++) {
      const challenge = issueChallenge(random, clock, USER);
      secrets.push(challenge.challenge);
      const assertion = await methods.webauthn.verify(
        { ownerUserId: USER },
        { ceremonyUserId: USER, challenge: { stored: challenge, presented: challenge.challenge }, verified: true, userVerified: true, signCount: 1 },
        clock,
      );
      verify(id(5), assertion.evidence);
    }

    // A second TOTP imported from an existing seed (now needs AAL3: the key is the strongest factor).
    const imported = parseOtpauthUri(buildOtpauthUri({ ...seed, secret: generateTotpSecret(random), issuer: 'Legacy', accountName: 'alice' }));
    keepBytes(imported.secret);
    run({ type: 'EnrollTotp', credentialId: id(6), name: 'Old app', algorithm: imported.algorithm, digits: imported.digits, period: imported.period, source: 'imported', authorization: stepUp(3) });

    // Five wrong TOTP codes (throttling engages) and a wrong TAP.
    for (let i = 0; i < 5; i++) {
      tick(60 * 60_000);
      const wrong = String((Number(generateTotpCode(seed, clock)) + 7) % 1_000_000).padStart(6, '0');
      numericCodes.push(wrong);
      verify(null, (await methods.totp.verify({ seed, lastAcceptedStep: null }, { code: wrong }, clock)).evidence);
    }
    tick(60 * 60_000);
    const tapSecret = Buffer.from(random(16)).toString('base64url');
    secrets.push(tapSecret);
    verify(null, { kind: 'tap', outcome: 'no_match' });

    // A pass redeemed once the backoff has passed (the caller checked its secret; only its id is
    // recorded), then a key bound with it.
    tick(60 * 60_000);
    run({ type: 'ConsumeTemporaryAccessPass', passId: id(20), recoveryId: 'rec-9' });
    run({
      type: 'RegisterWebAuthnCredential',
      credentialId: id(7),
      name: 'Recovered key',
      aaguid: 'ee882879-721c-4913-9775-3dfcce97072a',
      deviceBound: true,
      signCount: 0,
      authorization: { kind: 'recovery_tap', recoveryId: 'rec-9', recoveryCompleted: true, tapExpiresAt: new Date(clock.getTime() + 3_600_000) },
    });

    // Revocation, an incident freeze, and an audited unlock.
    run({ type: 'RevokeCredential', credentialId: id(6), authorization: stepUp(3) });
    run({ type: 'FreezeAccount', incidentId: 'INC-7', reason: 'compromise suspected' });
    run({ type: 'UnfreezeAccount', incidentId: 'INC-7' });
    run({ type: 'ResetThrottle', reason: 'admin_unlock', referenceId: 'SEC-1234' });
  });

  it('the scenario produced every auth event type', () => {
    expect(new Set(events.map((event) => event.type))).toEqual(new Set(AUTH_EVENT_TYPES));
  });

  it('every event conforms to its strict contract schema, with the user id', () => {
    for (const event of events) {
      expect(() => AUTH_EVENT_SCHEMAS[event.type].parse(event.data)).not.toThrow();
      expect(event.data.userId).toBe(USER);
    }
  });

  it('S29: no seed, URI, backup code, hash, salt, pepper, challenge, TAP or address appears in any event', () => {
    const serialized = JSON.stringify(events);
    expect(secrets.length).toBeGreaterThan(100);
    for (const secret of secrets) {
      expect(serialized).not.toContain(secret);
      expect(serialized.toUpperCase()).not.toContain(secret.toUpperCase());
    }
  });

  it('S29: no OTP code (TOTP, SMS, wrong guesses) appears as a number or string in any event', () => {
    const serialized = JSON.stringify(events);
    for (const code of numericCodes) expect(serialized).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
  });

  it('the search would find a leaked secret (the check itself can fail)', () => {
    const leaked = JSON.stringify([...events, { type: 'Leak', data: { note: secrets[1].toLowerCase() } }]);
    expect(secrets.some((secret) => leaked.toUpperCase().includes(secret.toUpperCase()))).toBe(true);
    const leakedCode = JSON.stringify([{ code: numericCodes[0] }]);
    expect(numericCodes.some((code) => new RegExp(`(?<![0-9])${code}(?![0-9])`).test(leakedCode))).toBe(true);
  });
});
