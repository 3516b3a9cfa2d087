import { AuthenticatorEmulator, PasskeysCredentialsMemoryRepository, WebAuthnEmulator } from 'nid-webauthn-emulator';
import { credentialsDecider } from '@tessera/auth-domain';
import type { AuthEvent } from '@tessera/contracts';
import { fold } from '@tessera/event-sourcing';
import { PostgresEventStore } from '@tessera/event-store';
import { AccountService } from './credentials/account.service';
import { type AuthTestService, authEnv, enrollTotp, events, newUserId, ORIGIN, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';

describe('auth-service throttling (S8, S9) with state in PostgreSQL', () => {
  const env = authEnv();
  let svc: AuthTestService;
  let serviceToken: string;
  beforeAll(async () => {
    svc = await startAuthService(env);
    serviceToken = await svc.token('idp', ['service'], ['factors:verify']);
  });
  afterAll(async () => {
    await svc?.stop();
    await svc?.database.drop();
  });

  const verify = (target: AuthTestService, userId: string, code: string, clientAddress: string, method = 'totp') =>
    target.request('POST', '/v1/verify', { token: serviceToken, body: { userId, method, proof: { code }, clientAddress } });

  it('S9: one client address is cut off after 10 failures across accounts, long before any account', async () => {
    const address = '203.0.113.7';
    const users = await Promise.all([newUserId(), newUserId(), newUserId()].map(async (userId) => ({ userId, totp: await enrollTotp(svc, userId) })));
    for (let i = 0; i < 10; i++) {
      const response = await verify(svc, users[i % 3].userId, '000000', address);
      expect(response.status).toBe(422);
    }
    const blocked = await verify(svc, users[0].userId, users[0].totp.code(1), address);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('address_limit');
    // The account itself is not locked: from another address the correct code works.
    expect((await verify(svc, users[0].userId, users[0].totp.code(1), '198.51.100.9')).status).toBe(200);
  });

  it('S8/S9: delays engage after 5 failures and notify the user; the 100th failure locks until a passkey sign-in; the lock survives a restart', async () => {
    const userId = newUserId();
    const totp = await enrollTotp(svc, userId);
    // A passkey too: the exit S9 keeps open.
    const authenticator = new WebAuthnEmulator(new AuthenticatorEmulator({ credentialsRepository: new PasskeysCredentialsMemoryRepository() }));
    const token = await svc.token(userId);
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const options = await svc.request('POST', path(userId, '/factors/webauthn/registration-options'), { token, body: {} });
    const registered = await svc.request('POST', path(userId, '/factors/webauthn'), {
      token,
      body: { challengeId: options.body.challengeId, name: 'Passkey', response: authenticator.createJSON(ORIGIN, options.body.options) },
      headers: { 'x-step-up-assertion': stepUp },
    });
    expect(registered.status).toBe(201);

    // 98 earlier failures, 20 minutes apart so that no backoff refuses them (the longest is 15 minutes).
    const accounts = svc.service.app.get(AccountService);
    const start = Date.now() - 99 * 20 * 60_000;
    for (let i = 0; i < 98; i++) {
      await accounts.execute(
        { type: 'RecordVerification', userId, now: new Date(start + i * 20 * 60_000), credentialId: null, evidence: { kind: 'totp', outcome: 'no_match' }, policy: { allowEmailOtp: true, allowSmsOtp: true } },
        { kind: 'system', id: 'test' },
      );
    }
    const engaged = (await events(svc, userId)).filter((event) => event.type === 'ThrottleEngaged');
    expect(engaged.map((event) => event.data.stage)).toEqual(['delayed']);
    // A stream this long is read from its snapshot and the few events after it, to the same state.
    const [snapshot]: { version: number }[] = await svc.service.resources.dataSource.query(`SELECT version FROM stream_snapshots WHERE stream_id = $1`, [`auth-user-${userId}`]);
    const loaded = await accounts.loadStream(userId);
    expect(snapshot.version).toBeGreaterThan(loaded.version - 16);
    expect(loaded.snapshotVersion).toBe(snapshot.version);
    const { events: all } = await svc.service.app.get(PostgresEventStore).readStream(`auth-user-${userId}`);
    expect(loaded.state).toEqual(fold(credentialsDecider, all as unknown as AuthEvent[]));

    // The 99th failure over HTTP, then the backoff refuses even a correct code without counting it.
    expect((await verify(svc, userId, '000000', '192.0.2.1')).status).toBe(422);
    const during = await verify(svc, userId, totp.code(1), '192.0.2.2');
    expect(during.status).toBe(429);
    expect(during.body.error.code).toBe('throttled');

    // The 100th: another failure recorded 20 minutes later than the backoff allows it.
    await accounts.execute(
      { type: 'RecordVerification', userId, now: new Date(Date.now() + 20 * 60_000), credentialId: null, evidence: { kind: 'backup_codes', outcome: 'no_match' }, policy: { allowEmailOtp: true, allowSmsOtp: true } },
      { kind: 'system', id: 'test' },
    );
    const locked = (await events(svc, userId)).filter((event) => event.type === 'ThrottleEngaged').map((event) => event.data.stage);
    expect(locked).toEqual(['delayed', 'locked']);

    // Restart on the same database: the 101st guess is refused even though it is correct.
    const database = svc.database;
    await svc.service.stop();
    svc = await startAuthService(env, database);
    serviceToken = await svc.token('idp', ['service'], ['factors:verify']);
    const refused = await verify(svc, userId, totp.code(1), '192.0.2.3');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('account_locked');

    // A passkey is never throttled, and its success lifts the lock.
    const challenge = await svc.request('POST', '/v1/verify/webauthn-challenges', { token: serviceToken, body: { userId } });
    const passkey = await svc.request('POST', '/v1/verify', {
      token: serviceToken,
      body: { userId, method: 'webauthn', proof: { challengeId: challenge.body.challengeId, response: authenticator.getJSON(ORIGIN, challenge.body.options) }, clientAddress: '192.0.2.3' },
    });
    expect(passkey.status).toBe(200);
    expect((await events(svc, userId)).some((event) => event.type === 'ThrottleReset' && event.data.reason === 'phishing_resistant_sign_in')).toBe(true);
    // Guesses are evaluated again: a wrong code is now a plain failure, not a lock.
    const window = [-1, 0, 1].map((steps) => totp.code(steps));
    const wrong = ['000000', '111111', '222222', '333333'].find((code) => !window.includes(code))!;
    const evaluated = await verify(svc, userId, wrong, '192.0.2.4');
    expect(evaluated.status).toBe(422);
    expect(evaluated.body.error.code).toBe('verification_failed');
    expect(evaluated.body.error.message).toContain('no_match');
  });
});
