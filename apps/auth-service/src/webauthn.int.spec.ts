import { AuthenticatorEmulator, PasskeysCredentialsMemoryRepository, WebAuthnEmulator } from 'nid-webauthn-emulator';
import { type AuthTestService, enrollTotp, events, newUserId, ORIGIN, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';

/** A software authenticator (nid-webauthn-emulator): a synced passkey by default, or a device-bound key. */
function authenticator(options: { deviceBound?: boolean; userVerified?: boolean; repository?: PasskeysCredentialsMemoryRepository } = {}) {
  const repository = options.repository ?? new PasskeysCredentialsMemoryRepository();
  const emulator = new WebAuthnEmulator(
    new AuthenticatorEmulator({
      stateless: options.deviceBound ?? false,
      credentialsRepository: options.deviceBound ? undefined : repository,
      verifications: { userPresent: true, userVerified: options.userVerified ?? true },
      ...(options.userVerified === false ? { userGetAssertionInteraction: () => ({ options: { uv: false, up: true } }) } : {}),
    }),
  );
  return { emulator, repository };
}

describe('auth-service WebAuthn ceremonies end to end (software authenticator)', () => {
  let svc: AuthTestService;
  beforeAll(async () => {
    svc = await startAuthService();
  });
  afterAll(async () => svc?.stop());

  async function register(userId: string, emulator: WebAuthnEmulator, name: string, stepUp?: string, origin = ORIGIN) {
    const token = await svc.token(userId);
    const options = await svc.request('POST', path(userId, '/factors/webauthn/registration-options'), { token, body: {} });
    expect(options.status).toBe(200);
    const response = emulator.createJSON(origin, options.body.options);
    return svc.request('POST', path(userId, '/factors/webauthn'), {
      token,
      body: { challengeId: options.body.challengeId, name, response },
      headers: stepUp ? { 'x-step-up-assertion': stepUp } : {},
    });
  }

  async function assertion(userId: string, emulator: WebAuthnEmulator, origin = ORIGIN) {
    const token = await svc.token(userId);
    const challenge = await svc.request('POST', '/v1/verify/webauthn-challenges', { token, body: { userId } });
    expect(challenge.status).toBe(200);
    return { challengeId: challenge.body.challengeId as string, response: emulator.getJSON(origin, challenge.body.options), token };
  }

  it('S15/S18/S20: registration and authentication, several named keys, UV required, attestation none, AAGUID kept', async () => {
    const userId = newUserId();
    const passkey = authenticator();
    const options = await svc.request('POST', path(userId, '/factors/webauthn/registration-options'), { token: await svc.token(userId), body: {} });
    expect(options.body.options.attestation).toBe('none');
    expect(options.body.options.authenticatorSelection.userVerification).toBe('required');
    // S15: at least 64 bits of challenge (256 here).
    expect(Buffer.from(options.body.options.challenge, 'base64url').byteLength).toBeGreaterThanOrEqual(8);

    const first = await register(userId, passkey.emulator, 'Laptop passkey');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: 'Laptop passkey', deviceBound: false, status: 'active' });
    expect(first.body.aaguid).toMatch(/^[0-9a-f-]{36}$/);

    const login = await assertion(userId, passkey.emulator);
    const verified = await svc.request('POST', '/v1/step-up', { token: login.token, body: { method: 'webauthn', proof: { challengeId: login.challengeId, response: login.response } } });
    expect(verified.status).toBe(200);
    // A synced passkey is AAL2 (63B-4), with RFC 8176 amr values.
    expect(verified.body.assuranceLevel).toBe(2);
    expect(verified.body.amr).toEqual(expect.arrayContaining(['pop', 'user', 'swk']));

    const key = authenticator({ deviceBound: true });
    const second = await register(userId, key.emulator, 'YubiKey', verified.body.stepUpAssertion);
    expect(second.status).toBe(201);
    expect(second.body.deviceBound).toBe(true);
    const listed = await svc.request('GET', path(userId, '/factors'), { token: login.token });
    expect(listed.body.factors.map((factor: { name: string }) => factor.name)).toEqual(['Laptop passkey', 'YubiKey']);

    // A device-bound key with UV reaches AAL3; its counter stays 0 (0 after 0 is accepted, S19).
    for (let i = 0; i < 2; i++) {
      const bound = await assertion(userId, key.emulator);
      const result = await svc.request('POST', '/v1/step-up', { token: bound.token, body: { method: 'webauthn', proof: { challengeId: bound.challengeId, response: bound.response } } });
      expect(result.status).toBe(200);
      expect(result.body.assuranceLevel).toBe(3);
    }
  });

  // A sibling origin under the RP ID: the authenticator signs for it, the service expects only ORIGIN.
  const WRONG_ORIGIN = 'https://phish.app.tessera.test';

  it('S16: a wrong origin is rejected at registration and at sign-in', async () => {
    const userId = newUserId();
    const passkey = authenticator();
    const registered = await register(userId, passkey.emulator, 'Phishable?', undefined, WRONG_ORIGIN);
    expect(registered.status).toBe(422);
    expect(registered.body.error.code).toBe('registration_invalid');

    expect((await register(userId, passkey.emulator, 'Real')).status).toBe(201);
    const login = await assertion(userId, passkey.emulator, WRONG_ORIGIN);
    const result = await svc.request('POST', '/v1/step-up', { token: login.token, body: { method: 'webauthn', proof: { challengeId: login.challengeId, response: login.response } } });
    expect(result.status).toBe(422);
    expect(result.body.error.code).toBe('verification_failed');
  });

  it('S15/S16: a replayed assertion is rejected (the challenge is single use)', async () => {
    const userId = newUserId();
    const passkey = authenticator();
    expect((await register(userId, passkey.emulator, 'Key')).status).toBe(201);
    const login = await assertion(userId, passkey.emulator);
    const body = { method: 'webauthn', proof: { challengeId: login.challengeId, response: login.response } };
    expect((await svc.request('POST', '/v1/step-up', { token: login.token, body })).status).toBe(200);
    const replay = await svc.request('POST', '/v1/step-up', { token: login.token, body });
    expect(replay.status).toBe(422);
  });

  it('S15: an expired challenge is rejected', async () => {
    const userId = newUserId();
    const passkey = authenticator();
    expect((await register(userId, passkey.emulator, 'Key')).status).toBe(201);
    const login = await assertion(userId, passkey.emulator);
    await svc.service.resources.dataSource.query(`UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE challenge_id = $1`, [login.challengeId]);
    const result = await svc.request('POST', '/v1/step-up', { token: login.token, body: { method: 'webauthn', proof: { challengeId: login.challengeId, response: login.response } } });
    expect(result.status).toBe(422);
  });

  it('S18: an assertion without user verification is refused, as the options announced', async () => {
    const userId = newUserId();
    const repository = new PasskeysCredentialsMemoryRepository();
    expect((await register(userId, authenticator({ repository }).emulator, 'Key')).status).toBe(201);
    const noUv = authenticator({ repository, userVerified: false });
    const login = await assertion(userId, noUv.emulator);
    const result = await svc.request('POST', '/v1/step-up', { token: login.token, body: { method: 'webauthn', proof: { challengeId: login.challengeId, response: login.response } } });
    expect(result.status).toBe(422);
  });

  it('S19: a counter that does not increase is rejected and raises PossibleClonedAuthenticatorDetected', async () => {
    const userId = newUserId();
    const original = authenticator();
    expect((await register(userId, original.emulator, 'Key')).status).toBe(201);
    // The clone: a copy of the authenticator's state taken now.
    const copy = new PasskeysCredentialsMemoryRepository();
    for (const credential of original.repository.loadCredentials()) copy.saveCredential(credential);
    const clone = authenticator({ repository: copy });

    const first = await assertion(userId, original.emulator);
    expect((await svc.request('POST', '/v1/step-up', { token: first.token, body: { method: 'webauthn', proof: { challengeId: first.challengeId, response: first.response } } })).status).toBe(200);
    const cloned = await assertion(userId, clone.emulator);
    const result = await svc.request('POST', '/v1/step-up', { token: cloned.token, body: { method: 'webauthn', proof: { challengeId: cloned.challengeId, response: cloned.response } } });
    expect(result.status).toBe(422);
    expect(result.body.error.message).toContain('counter_not_increasing');
    const detected = (await events(svc, userId)).find((event) => event.type === 'PossibleClonedAuthenticatorDetected');
    expect(detected?.data).toMatchObject({ storedSignCount: 1, presentedSignCount: 1 });
  });

  it("S17: another user's credential is refused in this user's ceremony", async () => {
    const alice = newUserId();
    const bob = newUserId();
    const alicesKey = authenticator();
    expect((await register(alice, alicesKey.emulator, 'Alice key')).status).toBe(201);
    expect((await register(bob, authenticator().emulator, 'Bob key')).status).toBe(201);
    // Bob's ceremony, answered with Alice's key (allowCredentials is ignored by a hostile client).
    const challenge = await svc.request('POST', '/v1/verify/webauthn-challenges', { token: await svc.token(bob), body: { userId: bob } });
    const response = alicesKey.emulator.getJSON(ORIGIN, { ...challenge.body.options, allowCredentials: [] });
    const result = await svc.request('POST', '/v1/step-up', { token: await svc.token(bob), body: { method: 'webauthn', proof: { challengeId: challenge.body.challengeId, response } } });
    expect(result.status).toBe(422);
    // Alice cannot use Bob's challenge either.
    const stolen = await svc.request('POST', '/v1/step-up', { token: await svc.token(alice), body: { method: 'webauthn', proof: { challengeId: challenge.body.challengeId, response } } });
    expect(stolen.status).toBe(422);
  });

  it('S21: a second key needs a step-up once a factor exists', async () => {
    const userId = newUserId();
    const totp = await enrollTotp(svc, userId);
    const refused = await register(userId, authenticator().emulator, 'Key');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('step_up_insufficient');
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    expect((await register(userId, authenticator().emulator, 'Key', stepUp)).status).toBe(201);
  });
});
