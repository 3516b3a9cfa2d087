import { decodeBase32Secret, generateTotpCode } from '@tessera/auth-domain';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { type AuthTestService, enrollTotp, events, newUserId, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';

describe('auth-service step-up assertions, binding and revocation', () => {
  let svc: AuthTestService;
  beforeAll(async () => {
    svc = await startAuthService();
  });
  afterAll(async () => svc?.stop());

  it('a verification returns an ES256 assertion with RFC 8176 amr, a short lifetime and a unique jti, checked offline with the JWKS', async () => {
    const jwks = await svc.request('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.body.keys[0].d).toBeUndefined();
    const keys = createLocalJWKSet(jwks.body);
    const jtis = new Set<string>();
    // Each TOTP step signs in once (S1): two users, one step-up each.
    for (const userId of [newUserId(), newUserId()]) {
      const assertion = await stepUpWithTotp(svc, userId, await enrollTotp(svc, userId));
      expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'ES256', kid: jwks.body.keys[0].kid });
      const { payload } = await jwtVerify(assertion, keys, { issuer: 'tessera-auth-service', audience: 'tessera', subject: userId });
      expect(payload.amr).toEqual(['otp']);
      expect(payload.aal).toBe(2);
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
      jtis.add(payload.jti!);
    }
    expect(jtis.size).toBe(2);
  });

  it('S21: binding needs a recent step-up of this user at the highest level; forged, foreign or stale assertions are refused', async () => {
    const alice = newUserId();
    const bob = newUserId();
    const aliceTotp = await enrollTotp(svc, alice);
    const bobTotp = await enrollTotp(svc, bob);
    const token = await svc.token(alice);
    const bind = (header?: string) => svc.request('POST', path(alice, '/factors/totp'), { token, body: {}, headers: header ? { 'x-step-up-assertion': header } : {} });

    expect((await bind()).status).toBe(403);
    const bobsAssertion = await stepUpWithTotp(svc, bob, bobTotp);
    expect((await bind(bobsAssertion)).body.error.code).toBe('step_up_invalid');
    const aliceAssertion = await stepUpWithTotp(svc, alice, aliceTotp);
    const [header, payload, signature] = aliceAssertion.split('.');
    const tampered = Buffer.from(JSON.stringify({ ...decodeJwt(aliceAssertion), aal: 3 })).toString('base64url');
    expect((await bind(`${header}.${tampered}.${signature}`)).status).toBe(403);
    expect((await bind(`${header}.${payload}.${signature}`)).status).toBe(201);

    // Another service's key cannot mint one: a JWT from the bearer-token issuer is refused.
    expect((await bind(await svc.token(alice))).status).toBe(403);
  });

  it('S23: a revoked credential fails verification as soon as the call returns', async () => {
    const userId = newUserId();
    const first = await enrollTotp(svc, userId);
    const stepUp = await stepUpWithTotp(svc, userId, first);
    const token = await svc.token(userId);
    // A second TOTP so the first is not the last factor.
    const enrol = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Second' }, headers: { 'x-step-up-assertion': stepUp } });
    expect(enrol.status).toBe(201);
    const seed = { secret: decodeBase32Secret(enrol.body.secret), algorithm: 'SHA1' as const, digits: 6, period: 30 };
    expect((await svc.request('POST', path(userId, `/factors/totp/${enrol.body.factorId}/confirmation`), { token, body: { code: generateTotpCode(seed, new Date()) } })).status).toBe(200);

    const revoke = await svc.request('DELETE', path(userId, `/factors/${first.factorId}`), { token, headers: { 'x-step-up-assertion': stepUp } });
    expect(revoke.status).toBe(200);
    const after = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: first.code(2) } } });
    expect(after.status).toBe(422);
    const listed = await svc.request('GET', path(userId, '/factors?includeRevoked=true'), { token });
    expect(listed.body.factors.find((factor: { factorId: string }) => factor.factorId === first.factorId).status).toBe('revoked');
    expect((await svc.service.resources.dataSource.query(`SELECT 1 FROM totp_seeds WHERE credential_id = $1`, [first.factorId])).length).toBe(0);
    expect((await events(svc, userId)).some((event) => event.type === 'CredentialRevoked')).toBe(true);
  });

  it('S24: the last remaining factor cannot be removed outside a recovery', async () => {
    const userId = newUserId();
    const totp = await enrollTotp(svc, userId);
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const response = await svc.request('DELETE', path(userId, `/factors/${totp.factorId}`), { token: await svc.token(userId), headers: { 'x-step-up-assertion': stepUp } });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('last_factor');
  });

  it("refuses another user's factors on every factor route, and a helpdesk may list but not change them", async () => {
    const owner = newUserId();
    const totp = await enrollTotp(svc, owner);
    const mallory = await svc.token(newUserId());
    const routes: [string, string, unknown][] = [
      ['GET', path(owner, '/factors'), undefined],
      ['DELETE', path(owner, `/factors/${totp.factorId}`), undefined],
      ['POST', path(owner, '/factors/totp'), {}],
      ['POST', path(owner, `/factors/totp/${totp.factorId}/confirmation`), { code: '123456' }],
      ['POST', path(owner, '/factors/webauthn/registration-options'), {}],
      ['POST', path(owner, '/backup-codes'), undefined],
      ['GET', path(owner, '/backup-codes'), undefined],
      ['POST', path(owner, '/factors/email'), { address: 'x@example.org' }],
      ['POST', '/v1/verify', { userId: owner, method: 'totp', proof: { code: totp.code(1) } }],
      ['POST', '/v1/verify/webauthn-challenges', { userId: owner }],
      ['POST', '/v1/verify/codes', { userId: owner, method: 'email_otp' }],
    ];
    for (const [method, route, body] of routes) {
      const response = await svc.request(method, route, { token: mallory, body });
      expect([method, route, response.status, response.body.error?.code]).toEqual([method, route, 403, 'forbidden']);
    }
    const helpdesk = await svc.token('helpdesk-1', ['helpdesk']);
    expect((await svc.request('GET', path(owner, '/factors'), { token: helpdesk })).status).toBe(200);
    expect((await svc.request('DELETE', path(owner, `/factors/${totp.factorId}`), { token: helpdesk })).status).toBe(403);
    expect((await svc.request('GET', path(owner, '/factors'))).status).toBe(401);
  });
});
