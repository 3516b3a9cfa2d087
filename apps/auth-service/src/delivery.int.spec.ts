import { type AuthTestService, authEnv, enrollTotp, events, newUserId, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';
import { deliveryEnv, startMailbox, startSmsGateway, type TestMailbox, type TestSmsGateway } from './testing/delivery-servers.spec';

/**
 * Email and SMS codes end to end (S7): delivered through @tessera/notifications to a real SMTP server and
 * to a real HTTP server that checks the webhook signature as an SMS gateway would.
 */
describe('auth-service email and SMS codes through real delivery (S7)', () => {
  let mailbox: TestMailbox;
  let gateway: TestSmsGateway;
  let svc: AuthTestService;
  let serviceToken: string;
  const env = () => authEnv(deliveryEnv(mailbox, gateway));
  let sharedEnv: Record<string, string>;

  beforeAll(async () => {
    [mailbox, gateway] = await Promise.all([startMailbox(), startSmsGateway()]);
    sharedEnv = env();
    svc = await startAuthService(sharedEnv);
    serviceToken = await svc.token('idp', ['service'], ['factors:verify']);
  });
  afterAll(async () => {
    await svc?.stop();
    await svc?.database.drop();
    await Promise.all([mailbox?.close(), gateway?.close()]);
  });

  /** A user with TOTP (the step-up that binds) and the restricted channels given. */
  async function userWith(channels: { email?: string; phone?: string }) {
    const userId = newUserId('oob');
    const totp = await enrollTotp(svc, userId);
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const token = await svc.token(userId);
    const added: Record<string, string> = {};
    if (channels.email) {
      const response = await svc.request('POST', path(userId, '/factors/email'), { token, body: { address: channels.email }, headers: { 'x-step-up-assertion': stepUp } });
      expect(response.status).toBe(201);
      added.email = response.body.factorId;
    }
    if (channels.phone) {
      const response = await svc.request('POST', path(userId, '/factors/sms'), { token, body: { phoneNumber: channels.phone }, headers: { 'x-step-up-assertion': stepUp } });
      expect(response.status).toBe(201);
      added.sms = response.body.factorId;
    }
    return { userId, totp, token, added };
  }

  const send = (userId: string, method: 'email_otp' | 'sms_otp') => svc.request('POST', '/v1/verify/codes', { token: serviceToken, body: { userId, method } });
  const verify = (userId: string, method: string, code: string, clientAddress = '198.51.100.20') =>
    svc.request('POST', '/v1/verify', { token: serviceToken, body: { userId, method, proof: { code }, clientAddress } });

  it('S7: an email code is mailed through a real SMTP server (body only, not the subject), verifies once at AAL1, and is refused the second time', async () => {
    const address = `${newUserId('mail').split('@')[0]}@example.org`;
    const { userId, added } = await userWith({ email: address });
    const listed = await svc.request('GET', path(userId, '/factors'), { token: await svc.token(userId) });
    expect(listed.body.factors.find((factor: { kind: string }) => factor.kind === 'email_otp')).toMatchObject({ factorId: added.email, restricted: true });
    expect(listed.body.factors.find((factor: { kind: string }) => factor.kind === 'totp')).toMatchObject({ restricted: false });

    const sent = await send(userId, 'email_otp');
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ credentialId: added.email, codeId: expect.any(String) });
    const code = mailbox.codeFor(address);
    const mail = mailbox.received.at(-1)!;
    expect(mail.to).toEqual([address]);
    expect(/^Subject: (.*)$/m.exec(mail.raw)?.[1]).not.toContain(code);
    expect(JSON.stringify(sent.body)).not.toContain(code);

    const first = await verify(userId, 'email_otp', code);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ method: 'email_otp', credentialId: added.email, assuranceLevel: 1, amr: ['otp'] });
    const again = await verify(userId, 'email_otp', code);
    expect(again.status).toBe(422);
    expect(again.body.error.message).toContain('already_used');
  });

  it('S7: an SMS code goes to the gateway as a signed webhook that the gateway verifies, verifies once at AAL2, and lives at most 10 minutes', async () => {
    const phone = '+15550' + String(Date.now()).slice(-6);
    const { userId, added } = await userWith({ phone });
    const sent = await send(userId, 'sms_otp');
    expect(sent.status).toBe(202);
    const request = gateway.requests.at(-1)!;
    expect(request.signatureValid).toBe(true);
    expect(request.payload).toMatchObject({ channel: 'sms', to: phone, template: 'one-time-code' });
    expect(request.idempotencyKey).toBe(`auth-code-${sent.body.codeId}`);
    const lifetimeMs = Date.parse(sent.body.expiresAt) - Date.now();
    expect(lifetimeMs).toBeGreaterThan(0);
    expect(lifetimeMs).toBeLessThanOrEqual(10 * 60_000);

    const code = gateway.codeFor(phone);
    const first = await verify(userId, 'sms_otp', code);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ method: 'sms_otp', credentialId: added.sms, assuranceLevel: 2 });
    expect((await verify(userId, 'sms_otp', code)).status).toBe(422);
    const stored: { lifetime: number }[] = await svc.service.resources.dataSource.query(
      `SELECT extract(epoch FROM expires_at - issued_at)::int AS lifetime FROM oob_codes WHERE credential_id = $1`,
      [added.sms],
    );
    expect(stored.every((row) => row.lifetime <= 600)).toBe(true);
  });

  it('S7: an expired code is refused even when it is right; email codes live at most 24 hours', async () => {
    const address = `${newUserId('expiry').split('@')[0]}@example.org`;
    const { userId, added } = await userWith({ email: address });
    const sent = await send(userId, 'email_otp');
    expect(sent.status).toBe(202);
    const lifetimeMs = Date.parse(sent.body.expiresAt) - Date.now();
    expect(lifetimeMs).toBeLessThanOrEqual(24 * 60 * 60_000);
    // The code's clock runs out (moved back in the table; the service's clock is the real one).
    await svc.service.resources.dataSource.query(`UPDATE oob_codes SET issued_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE code_id = $1`, [sent.body.codeId]);
    const late = await verify(userId, 'email_otp', mailbox.codeFor(address));
    expect(late.status).toBe(422);
    expect(late.body.error.message).toContain('expired');
    expect((await events(svc, userId)).filter((event) => event.type === 'VerificationFailed').at(-1)?.data).toMatchObject({ kind: 'email_otp', reason: 'expired', credentialId: added.email });
  });

  it('S7: parallel submissions of one SMS code give exactly one success', async () => {
    const phone = '+15551' + String(Date.now()).slice(-6);
    const { userId } = await userWith({ phone });
    expect((await send(userId, 'sms_otp')).status).toBe(202);
    const code = gateway.codeFor(phone);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => verify(userId, 'sms_otp', code, `198.51.100.${100 + i}`)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((candidate) => candidate.status !== 200)) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(typeof answer.body.error.code).toBe('string');
    }
  });

  it('S7: with a policy that forbids email and SMS codes, they can be neither added, nor sent, nor verified', async () => {
    const address = `${newUserId('policy').split('@')[0]}@example.org`;
    const phone = '+15552' + String(Date.now()).slice(-6);
    const { userId } = await userWith({ email: address, phone });
    expect((await send(userId, 'email_otp')).status).toBe(202);
    const code = mailbox.codeFor(address);

    // A second instance on the same database, configured with the stricter policy.
    const strict = await startAuthService({ ...sharedEnv, AUTH_ALLOW_EMAIL_OTP: 'false', AUTH_ALLOW_SMS_OTP: 'false' }, svc.database);
    try {
      const service = await strict.token('idp', ['service'], ['factors:verify']);
      for (const method of ['email_otp', 'sms_otp']) {
        const refused = await strict.request('POST', '/v1/verify/codes', { token: service, body: { userId, method } });
        expect(refused.status).toBe(403);
        expect(refused.body.error.code).toBe('restricted_factor_forbidden');
      }
      const verified = await strict.request('POST', '/v1/verify', { token: service, body: { userId, method: 'email_otp', proof: { code }, clientAddress: '198.51.100.30' } });
      expect(verified.status).toBe(403);
      expect(verified.body.error.code).toBe('restricted_factor_forbidden');
      const other = newUserId('policy');
      const totp = await enrollTotp(strict, other);
      const stepUp = await stepUpWithTotp(strict, other, totp);
      const added = await strict.request('POST', path(other, '/factors/sms'), { token: await strict.token(other), body: { phoneNumber: phone }, headers: { 'x-step-up-assertion': stepUp } });
      expect(added.status).toBe(403);
      expect(added.body.error.code).toBe('restricted_factor_forbidden');
    } finally {
      await strict.service.stop();
    }
    // Under the permissive policy the same code still works: the strict instance consumed nothing.
    expect((await verify(userId, 'email_otp', code)).status).toBe(200);
  });
});
