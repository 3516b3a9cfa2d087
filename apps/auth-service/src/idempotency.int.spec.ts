import { decodeBase32Secret, generateTotpCode } from '@tessera/auth-domain';
import { type AuthTestService, enrollTotp, events, newUserId, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';

/**
 * DESIGN.md "every mutating call takes an idempotency key; a retry never doubles an effect", on
 * auth-service's REST API (the shared @Idempotent interceptor). Answers that hold a secret — a new seed,
 * backup codes, a step-up assertion — are never stored, so a retry is told the call was done without
 * getting the secret again (S14, S29).
 */
describe('auth-service idempotency keys on mutating REST calls', () => {
  let svc: AuthTestService;
  beforeAll(async () => {
    svc = await startAuthService();
  });
  afterAll(async () => svc?.stop());

  const stored = (key: string): Promise<{ response_body: unknown; secret_withheld: boolean; state: string }[]> =>
    svc.service.resources.dataSource.query(`SELECT response_body, secret_withheld, state FROM idempotency_keys WHERE key = $1`, [key]);
  const idempotencyKey = (label: string) => `${label}-${newUserId('k').replace(/[^A-Za-z0-9._:-]/g, '.')}`;

  it('S14/S29: a retried backup-code generation makes one set and never shows the codes again', async () => {
    const userId = newUserId('idem-codes');
    const stepUp = await stepUpWithTotp(svc, userId, await enrollTotp(svc, userId));
    const key = idempotencyKey('codes');
    const headers = { 'x-step-up-assertion': stepUp, 'idempotency-key': key };
    const token = await svc.token(userId);
    const first = await svc.request('POST', path(userId, '/backup-codes'), { token, headers });
    expect(first.status).toBe(201);
    expect(first.body.codes).toHaveLength(10);
    const retry = await svc.request('POST', path(userId, '/backup-codes'), { token, headers });
    expect(retry).toMatchObject({ status: 409, body: { error: { code: 'already_done_secret_withheld' } } });
    expect(JSON.stringify(retry.body)).not.toContain(first.body.codes[0]);
    expect(await stored(key)).toEqual([{ response_body: null, secret_withheld: true, state: 'completed' }]);
    expect((await events(svc, userId)).filter((event) => event.type === 'BackupCodesGenerated')).toHaveLength(1);
  });

  it('S29: a retried TOTP enrolment makes one factor and never returns the seed again', async () => {
    const userId = newUserId('idem-totp');
    const token = await svc.token(userId);
    const key = idempotencyKey('enrol');
    const first = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Phone' }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const retry = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Phone' }, headers: { 'idempotency-key': key } });
    expect(retry).toMatchObject({ status: 409, body: { error: { code: 'already_done_secret_withheld' } } });
    expect(JSON.stringify(retry.body)).not.toContain(first.body.secret);
    expect(await stored(key)).toEqual([{ response_body: null, secret_withheld: true, state: 'completed' }]);
    expect((await events(svc, userId)).filter((event) => event.type === 'TotpEnrolled')).toHaveLength(1);

    // The confirmation is replayed as it was answered, and the same key for another request is refused.
    const seed = { secret: decodeBase32Secret(first.body.secret), algorithm: first.body.algorithm, digits: first.body.digits, period: first.body.period };
    const confirmKey = idempotencyKey('confirm');
    const confirm = () =>
      svc.request('POST', path(userId, `/factors/totp/${first.body.factorId}/confirmation`), { token, body: { code: generateTotpCode(seed, new Date()) }, headers: { 'idempotency-key': confirmKey } });
    const confirmed = await confirm();
    expect(confirmed).toMatchObject({ status: 200, body: { factorId: first.body.factorId, status: 'active' } });
    const replayed = await confirm();
    expect(replayed).toMatchObject({ status: 200, body: confirmed.body });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const reused = await svc.request('POST', path(userId, `/factors/totp/${first.body.factorId}/confirmation`), { token, body: { code: '000000' }, headers: { 'idempotency-key': confirmKey } });
    expect(reused).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
  });

  it('S23: a retried removal answers as the first did and revokes once', async () => {
    const userId = newUserId('idem-delete');
    const totp = await enrollTotp(svc, userId);
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const token = await svc.token(userId);
    const second = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Second' }, headers: { 'x-step-up-assertion': stepUp } });
    expect(second.status).toBe(201);
    const headers = { 'x-step-up-assertion': stepUp, 'idempotency-key': idempotencyKey('delete') };
    const answers = await Promise.all([1, 2, 3].map(() => svc.request('DELETE', path(userId, `/factors/${second.body.factorId}`), { token, headers })));
    for (const answer of answers) {
      expect(answer.status === 200 || (answer.status === 409 && answer.body.error.code === 'idempotency_key_in_use')).toBe(true);
    }
    const retry = await svc.request('DELETE', path(userId, `/factors/${second.body.factorId}`), { token, headers });
    expect(retry).toMatchObject({ status: 200, body: { factorId: second.body.factorId, alreadyRevoked: false } });
    expect((await events(svc, userId)).filter((event) => event.type === 'CredentialRevoked')).toHaveLength(1);
  });

  it('S29: a step-up assertion, a bearer credential, is never stored for a retry', async () => {
    const userId = newUserId('idem-verify');
    const totp = await enrollTotp(svc, userId);
    const key = idempotencyKey('verify');
    const service = await svc.token('idp', ['service'], ['factors:verify']);
    const body = { userId, method: 'totp', proof: { code: totp.code(1) }, clientAddress: '198.51.100.80' };
    const first = await svc.request('POST', '/v1/verify', { token: service, body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(200);
    const retry = await svc.request('POST', '/v1/verify', { token: service, body, headers: { 'idempotency-key': key } });
    expect(retry).toMatchObject({ status: 409, body: { error: { code: 'already_done_secret_withheld' } } });
    expect(await stored(key)).toEqual([{ response_body: null, secret_withheld: true, state: 'completed' }]);
    expect((await events(svc, userId)).filter((event) => event.type === 'VerificationSucceeded')).toHaveLength(1);
  });

  it('a malformed key is refused before anything happens', async () => {
    const userId = newUserId('idem-bad');
    const response = await svc.request('POST', path(userId, '/factors/totp'), { token: await svc.token(userId), body: {}, headers: { 'idempotency-key': 'no' } });
    expect(response).toMatchObject({ status: 400, body: { error: { code: 'invalid_idempotency_key' } } });
    expect(await events(svc, userId)).toEqual([]);
  });
});
