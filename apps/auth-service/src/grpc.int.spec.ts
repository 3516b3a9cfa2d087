import { status } from '@grpc/grpc-js';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { type AuthTestService, authEnv, enrollTotp, events, newUserId, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';
import { deliveryEnv, startMailbox, startSmsGateway, type TestMailbox, type TestSmsGateway } from './testing/delivery-servers.spec';
import { type AuthGrpcClient, authGrpcClient } from './testing/grpc-client.spec';

/**
 * tessera.auth.v1.AuthService as the other services call it: @grpc/grpc-js, the shared .proto, a bearer
 * token in the metadata with the scopes factors:verify / factors:read / factors:manage.
 */
describe('auth-service gRPC API (libs/shared/contracts/proto/auth.proto)', () => {
  let mailbox: TestMailbox;
  let gateway: TestSmsGateway;
  let svc: AuthTestService;
  let grpc: AuthGrpcClient;
  let verifier: string;
  let reader: string;
  let manager: string;

  beforeAll(async () => {
    [mailbox, gateway] = await Promise.all([startMailbox(), startSmsGateway()]);
    svc = await startAuthService(authEnv(deliveryEnv(mailbox, gateway)));
    grpc = authGrpcClient(svc.service.grpcUrl!);
    [verifier, reader, manager] = await Promise.all([
      svc.token('idp', ['service'], ['factors:verify']),
      svc.token('device-registry', ['service'], ['factors:read']),
      svc.token('recovery-orchestrator', ['service'], ['factors:manage']),
    ]);
  });
  afterAll(async () => {
    grpc?.close();
    await svc?.stop();
    await Promise.all([mailbox?.close(), gateway?.close()]);
  });

  const key = (label: string) => `${label}:${newUserId('key').replace(/[^A-Za-z0-9._:-]/g, '.')}`;
  const verifyRequest = (userId: string, method: string, proof: object, clientAddress = '198.51.100.40') => ({ user_id: userId, method, proof_json: JSON.stringify(proof), client_address: clientAddress });
  const issuePass = (userId: string, overrides: object = {}) =>
    grpc.call('IssueTemporaryAccessPass', {
      user_id: userId,
      recovery_id: `rec-${userId}`,
      idempotency_key: key('tap'),
      lifetime_seconds: 0,
      delivery_channel: 'email',
      delivery_address: `${userId.split('@')[0]}@example.org`,
      ...overrides,
    }, manager);

  const RPCS: { method: string; scope: string; request: (userId: string) => object }[] = [
    { method: 'Verify', scope: 'factors:verify', request: (userId) => verifyRequest(userId, 'totp', { code: '000000' }) },
    { method: 'ListFactors', scope: 'factors:read', request: (userId) => ({ user_id: userId }) },
    { method: 'RevokeCredential', scope: 'factors:manage', request: (userId) => ({ user_id: userId, credential_id: '01900000-0000-7000-8000-000000000001', idempotency_key: key('r'), reason: 'lost', recovery_id: 'rec-1' }) },
    { method: 'FreezeAccount', scope: 'factors:manage', request: (userId) => ({ user_id: userId, incident_id: 'inc-1', idempotency_key: key('f'), reason: 'suspected' }) },
    { method: 'UnfreezeAccount', scope: 'factors:manage', request: (userId) => ({ user_id: userId, incident_id: 'inc-1', idempotency_key: key('u') }) },
    { method: 'IssueTemporaryAccessPass', scope: 'factors:manage', request: (userId) => ({ user_id: userId, recovery_id: 'rec-1', idempotency_key: key('t'), lifetime_seconds: 0, delivery_channel: 'email', delivery_address: 'a@example.org' }) },
    { method: 'RevokeTemporaryAccessPass', scope: 'factors:manage', request: (userId) => ({ user_id: userId, pass_id: '01900000-0000-7000-8000-000000000002', idempotency_key: key('v') }) },
  ];

  it('every RPC needs a bearer token (UNAUTHENTICATED) and its own scope (PERMISSION_DENIED), and changes nothing without them', async () => {
    const userId = newUserId('grpc-auth');
    const wrongScope = await svc.token('other', ['service'], ['devices:read']);
    for (const rpc of RPCS) {
      const anonymous = await grpc.call(rpc.method, rpc.request(userId));
      expect({ method: rpc.method, code: anonymous.ok ? 'ok' : anonymous.code }).toEqual({ method: rpc.method, code: status.UNAUTHENTICATED });
      const forbidden = await grpc.call(rpc.method, rpc.request(userId), wrongScope);
      expect({ method: rpc.method, code: forbidden.ok ? 'ok' : forbidden.code }).toEqual({ method: rpc.method, code: status.PERMISSION_DENIED });
      // A user's own token has no service scope either.
      const person = await grpc.call(rpc.method, rpc.request(userId), await svc.token(userId));
      expect(person.ok).toBe(false);
    }
    expect(await events(svc, userId)).toEqual([]);
  });

  it('Verify: a TOTP code gives the method, the assurance level and an ES256 step-up assertion that verifies offline against the JWKS', async () => {
    const userId = newUserId('grpc-verify');
    const totp = await enrollTotp(svc, userId);
    const answer = await grpc.call('Verify', verifyRequest(userId, 'totp', { code: totp.code(1) }), verifier);
    expect(answer.ok).toBe(true);
    if (!answer.ok) return;
    expect(answer.response).toMatchObject({ method: 'totp', assurance_level: 2, credential_id: totp.factorId });
    const jwks = createLocalJWKSet((await svc.request('GET', '/.well-known/jwks.json')).body);
    const { payload } = await jwtVerify(answer.response.step_up_assertion, jwks, { issuer: 'tessera-auth-service', audience: 'tessera', subject: userId });
    expect(payload).toMatchObject({ aal: 2, amr: ['otp'], mth: 'totp' });
    // S1 over gRPC too: the same code again is refused, with the machine-readable code in the details.
    const replay = await grpc.call('Verify', verifyRequest(userId, 'totp', { code: totp.code(1) }), verifier);
    expect(replay).toMatchObject({ ok: false, code: status.FAILED_PRECONDITION, details: 'verification_failed' });
  });

  it('ListFactors (factors:read): kind, name, status and remaining codes, never a secret', async () => {
    const userId = newUserId('grpc-list');
    const totp = await enrollTotp(svc, userId);
    const answer = await grpc.call('ListFactors', { user_id: userId }, reader);
    expect(answer).toMatchObject({ ok: true, response: { frozen: false, factors: [{ factor_id: totp.factorId, kind: 'totp', status: 'active', remaining_codes: 0 }] } });
    expect(JSON.stringify(answer)).not.toMatch(/seed|secret|ciphertext|v1\./i);
    expect(await grpc.call('ListFactors', { user_id: newUserId('nobody') }, reader)).toMatchObject({ ok: true, response: { factors: [], frozen: false } });
  });

  it('S23/S24: RevokeCredential inside a recovery removes even the last factor, and it fails verification as soon as the call returns; a retry with its key does it once', async () => {
    const userId = newUserId('grpc-revoke');
    const totp = await enrollTotp(svc, userId);
    // Outside a recovery the last factor stays (S24).
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const outside = await svc.request('DELETE', path(userId, `/factors/${totp.factorId}`), { token: await svc.token(userId), headers: { 'x-step-up-assertion': stepUp } });
    expect(outside).toMatchObject({ status: 409, body: { error: { code: 'last_factor' } } });

    const request = { user_id: userId, credential_id: totp.factorId, idempotency_key: key('revoke'), reason: 'lost phone', recovery_id: `rec-${userId}` };
    const first = await grpc.call('RevokeCredential', request, manager);
    expect(first).toMatchObject({ ok: true, response: { credential_id: totp.factorId, already_revoked: false } });
    const code = totp.code(0);
    const after = await svc.request('POST', '/v1/verify', { token: verifier, body: { userId, method: 'totp', proof: { code }, clientAddress: '198.51.100.41' } });
    expect(after.status).toBe(422);

    const retry = await grpc.call('RevokeCredential', request, manager);
    expect(retry).toEqual(first);
    const reused = await grpc.call('RevokeCredential', { ...request, reason: 'another reason' }, manager);
    expect(reused).toMatchObject({ ok: false, code: status.FAILED_PRECONDITION, details: 'idempotency_key_reused' });
    expect((await events(svc, userId)).filter((event) => event.type === 'CredentialRevoked')).toHaveLength(1);
    expect(await grpc.call('ListFactors', { user_id: userId }, reader)).toMatchObject({ ok: true, response: { factors: [{ status: 'revoked' }] } });
  });

  it('FreezeAccount / UnfreezeAccount: a frozen account binds nothing while sign-in goes on; retries are idempotent', async () => {
    const userId = newUserId('grpc-freeze');
    const totp = await enrollTotp(svc, userId);
    const freeze = { user_id: userId, incident_id: 'inc-42', idempotency_key: key('freeze'), reason: 'credential stuffing from one ASN' };
    expect(await grpc.call('FreezeAccount', freeze, manager)).toEqual({ ok: true, response: { already_frozen: false } });
    expect(await grpc.call('FreezeAccount', freeze, manager)).toEqual({ ok: true, response: { already_frozen: false } });
    expect(await grpc.call('FreezeAccount', { ...freeze, idempotency_key: key('freeze-again') }, manager)).toEqual({ ok: true, response: { already_frozen: true } });
    expect(await grpc.call('ListFactors', { user_id: userId }, reader)).toMatchObject({ ok: true, response: { frozen: true } });

    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const bind = await svc.request('POST', path(userId, '/factors/totp'), { token: await svc.token(userId), body: {}, headers: { 'x-step-up-assertion': stepUp } });
    expect(bind).toMatchObject({ status: 403, body: { error: { code: 'account_frozen' } } });

    const otherIncident = await grpc.call('UnfreezeAccount', { user_id: userId, incident_id: 'inc-7', idempotency_key: key('unfreeze-wrong') }, manager);
    expect(otherIncident).toMatchObject({ ok: false, code: status.PERMISSION_DENIED });
    const unfreeze = { user_id: userId, incident_id: 'inc-42', idempotency_key: key('unfreeze') };
    expect(await grpc.call('UnfreezeAccount', unfreeze, manager)).toEqual({ ok: true, response: { was_frozen: true } });
    expect(await grpc.call('UnfreezeAccount', unfreeze, manager)).toEqual({ ok: true, response: { was_frozen: true } });
    expect(await grpc.call('UnfreezeAccount', { ...unfreeze, idempotency_key: key('unfreeze-again') }, manager)).toEqual({ ok: true, response: { was_frozen: false } });
    expect((await events(svc, userId)).map((event) => event.type).filter((type) => type.startsWith('Credentials'))).toEqual(['CredentialsFrozen', 'CredentialsUnfrozen']);
  });

  it('S25/S32: IssueTemporaryAccessPass sends the pass to the user and answers only its id; a retry with its key issues no second pass', async () => {
    const userId = newUserId('tap-issue');
    const request = {
      user_id: userId,
      recovery_id: `rec-${userId}`,
      idempotency_key: key('tap'),
      lifetime_seconds: 0,
      delivery_channel: 'email',
      delivery_address: `${userId.split('@')[0]}@example.org`,
    };
    const mailsBefore = mailbox.received.length;
    const issued = await grpc.call('IssueTemporaryAccessPass', request, manager);
    expect(issued).toMatchObject({ ok: true, response: { pass_id: expect.any(String), expires_at: expect.any(String) } });
    if (!issued.ok) return;
    const pass = mailbox.codeFor(request.delivery_address);
    expect(JSON.stringify(issued)).not.toContain(pass);
    // DESIGN.md: a pass lives one hour at most.
    expect(Date.parse(issued.response.expires_at) - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(await grpc.call('IssueTemporaryAccessPass', request, manager)).toEqual(issued);
    expect(mailbox.received.length).toBe(mailsBefore + 1);
    // Over SMS a pass lives ten minutes at most (63B-4 §3.1.3).
    const sms = await issuePass(newUserId('tap-sms'), { delivery_channel: 'sms', delivery_address: '+15553000001', lifetime_seconds: 3600 });
    expect(sms).toMatchObject({ ok: false, code: status.FAILED_PRECONDITION });
  });

  it('S25/S21: a pass signs the user in once, at AAL1, and is good only for enrolling: it binds a new factor but removes none', async () => {
    const userId = newUserId('tap-enrol');
    const old = await enrollTotp(svc, userId);
    const issued = await issuePass(userId);
    expect(issued.ok).toBe(true);
    const pass = mailbox.codeFor(`${userId.split('@')[0]}@example.org`);
    const token = await svc.token(userId);
    const signIn = await svc.request('POST', '/v1/step-up', { token, body: { method: 'temporary_access_pass', proof: { code: pass } } });
    expect(signIn.status).toBe(200);
    expect(signIn.body).toMatchObject({ method: 'temporary_access_pass', assuranceLevel: 1, credentialId: null });
    const assertion = signIn.body.stepUpAssertion;

    const removal = await svc.request('DELETE', path(userId, `/factors/${old.factorId}`), { token, headers: { 'x-step-up-assertion': assertion } });
    expect(removal).toMatchObject({ status: 403, body: { error: { code: 'step_up_insufficient' } } });
    // An AAL1 assertion could never bind next to an AAL2 factor; the pass's recovery makes it a binding.
    const enrol = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'New phone' }, headers: { 'x-step-up-assertion': assertion } });
    expect(enrol.status).toBe(201);

    const again = await svc.request('POST', '/v1/step-up', { token, body: { method: 'temporary_access_pass', proof: { code: pass } } });
    expect(again).toMatchObject({ status: 422, body: { error: { code: 'verification_failed' } } });
    expect(again.body.error.message).toContain('no_match');
  });

  it('S25: twenty parallel redemptions of one pass: exactly one succeeds', async () => {
    const userId = newUserId('tap-race');
    await enrollTotp(svc, userId);
    expect((await issuePass(userId)).ok).toBe(true);
    const pass = mailbox.codeFor(`${userId.split('@')[0]}@example.org`);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        svc.request('POST', '/v1/verify', { token: verifier, body: { userId, method: 'temporary_access_pass', proof: { code: pass }, clientAddress: `198.51.101.${i}` } }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((candidate) => candidate.status !== 200)) {
      expect([422, 429]).toContain(answer.status);
      expect(typeof answer.body.error.code).toBe('string');
    }
    const used: { used: number }[] = await svc.service.resources.dataSource.query(`SELECT count(*)::int AS used FROM temporary_access_passes WHERE user_id = $1 AND used_at IS NOT NULL`, [userId]);
    expect(used).toEqual([{ used: 1 }]);
  });

  it("S25: an expired pass, a revoked pass and another user's pass are refused", async () => {
    const alice = newUserId('tap-alice');
    const bob = newUserId('tap-bob');
    await Promise.all([enrollTotp(svc, alice), enrollTotp(svc, bob)]);
    const redeem = (userId: string, code: string) => svc.request('POST', '/v1/verify', { token: verifier, body: { userId, method: 'temporary_access_pass', proof: { code }, clientAddress: '198.51.102.1' } });

    const bobs = await issuePass(bob);
    const bobsPass = mailbox.codeFor(`${bob.split('@')[0]}@example.org`);
    expect((await redeem(alice, bobsPass)).status).toBe(422);

    const expiring = await issuePass(alice);
    if (!expiring.ok) throw new Error('issue failed');
    const alicesPass = mailbox.codeFor(`${alice.split('@')[0]}@example.org`);
    await svc.service.resources.dataSource.query(`UPDATE temporary_access_passes SET expires_at = now() - interval '1 second' WHERE pass_id = $1`, [expiring.response.pass_id]);
    const expired = await redeem(alice, alicesPass);
    expect(expired.status).toBe(422);
    expect(expired.body.error.message).toContain('expired');

    if (!bobs.ok) throw new Error('issue failed');
    const revoke = { user_id: bob, pass_id: bobs.response.pass_id, idempotency_key: key('tap-revoke') };
    expect(await grpc.call('RevokeTemporaryAccessPass', revoke, manager)).toEqual({ ok: true, response: { already_revoked: false } });
    expect(await grpc.call('RevokeTemporaryAccessPass', revoke, manager)).toEqual({ ok: true, response: { already_revoked: false } });
    expect(await grpc.call('RevokeTemporaryAccessPass', { ...revoke, idempotency_key: key('tap-revoke-2') }, manager)).toEqual({ ok: true, response: { already_revoked: true } });
    expect((await redeem(bob, bobsPass)).status).toBe(422);
  });

  it('R7: bad input on every RPC is INVALID_ARGUMENT with a machine-readable code, never INTERNAL', async () => {
    const userId = newUserId('grpc-bad');
    const cases: [string, object, string][] = [
      ['Verify', { ...verifyRequest(userId, 'totp', {}), user_id: 'bad user/id' }, verifier],
      ['Verify', verifyRequest(userId, 'password', { code: '123456' }), verifier],
      ['Verify', { ...verifyRequest(userId, 'totp', {}), proof_json: '{not json' }, verifier],
      ['Verify', verifyRequest(userId, 'totp', { code: 123456 }), verifier],
      ['Verify', verifyRequest(userId, 'totp', { code: '123456', timestamp: 1 }), verifier],
      ['Verify', { ...verifyRequest(userId, 'totp', { code: '123456' }), client_address: 'not-an-ip' }, verifier],
      ['Verify', verifyRequest(userId, 'webauthn', { challengeId: 'x', response: {} }), verifier],
      ['ListFactors', { user_id: '' }, reader],
      ['RevokeCredential', { user_id: userId, credential_id: 'not-a-uuid', idempotency_key: key('bad'), reason: '', recovery_id: 'rec-1' }, manager],
      ['RevokeCredential', { user_id: userId, credential_id: '01900000-0000-7000-8000-000000000001', idempotency_key: 'short', reason: '', recovery_id: 'rec-1' }, manager],
      ['FreezeAccount', { user_id: userId, incident_id: 'inc-1', idempotency_key: key('bad'), reason: '' }, manager],
      ['UnfreezeAccount', { user_id: userId, incident_id: '', idempotency_key: key('bad') }, manager],
      ['IssueTemporaryAccessPass', { user_id: userId, recovery_id: 'rec-1', idempotency_key: key('bad'), lifetime_seconds: 7200, delivery_channel: 'email', delivery_address: 'a@example.org' }, manager],
      ['IssueTemporaryAccessPass', { user_id: userId, recovery_id: 'rec-1', idempotency_key: key('bad'), lifetime_seconds: 60, delivery_channel: 'pigeon', delivery_address: 'a@example.org' }, manager],
      ['RevokeTemporaryAccessPass', { user_id: userId, pass_id: 'nope', idempotency_key: key('bad') }, manager],
    ];
    for (const [method, request, token] of cases) {
      const answer = await grpc.call(method, request, token);
      expect({ method, request, code: answer.ok ? 'ok' : answer.code }).toEqual({ method, request, code: status.INVALID_ARGUMENT });
      expect(answer.ok || answer.details).toMatch(/^[a-z_]+$/);
    }
    // A huge message is refused by the server before any handler runs.
    const huge = await grpc.call('Verify', verifyRequest(userId, 'totp', { code: 'x'.repeat(100_000) }), verifier);
    expect(huge.ok).toBe(false);
    expect(huge.ok || huge.code).not.toBe(status.INTERNAL);
  });
});
