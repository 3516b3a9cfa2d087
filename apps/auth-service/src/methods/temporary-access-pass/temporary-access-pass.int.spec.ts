import { type AuthTestService, authEnv, enrollTotp, events, newUserId, path, startAuthService } from '../../testing/auth-test-kit.spec';
import { deliveryEnv, startMailbox, startSmsGateway, type TestMailbox, type TestSmsGateway } from '../../testing/delivery-servers.spec';
import { type AuthGrpcClient, authGrpcClient } from '../../testing/grpc-client.spec';

/**
 * What a redeemed Temporary Access Pass leaves on the user's stream, for the recovery-orchestrator to
 * move the recovery on: `TemporaryAccessPassConsumed` (ids only), and bindings made with it naming
 * the recovery and the pass (S21, S25, S29). Real PostgreSQL, Kafka (the outbox) and SMTP.
 */
describe('temporary access passes on the user’s stream', () => {
  let mailbox: TestMailbox;
  let gateway: TestSmsGateway;
  let svc: AuthTestService;
  let grpc: AuthGrpcClient;
  let manager: string;
  let verifier: string;

  beforeAll(async () => {
    [mailbox, gateway] = await Promise.all([startMailbox(), startSmsGateway()]);
    svc = await startAuthService(authEnv(deliveryEnv(mailbox, gateway)));
    grpc = authGrpcClient(svc.service.grpcUrl!);
    [manager, verifier] = await Promise.all([svc.token('recovery-orchestrator', ['service'], ['factors:manage']), svc.token('idp', ['service'], ['factors:verify'])]);
  });
  afterAll(async () => {
    grpc?.close();
    await svc?.stop();
    await Promise.all([mailbox?.close(), gateway?.close()]);
  });

  const address = (userId: string) => `${userId.split('@')[0]}@example.org`;
  async function issue(userId: string, recoveryId: string): Promise<{ passId: string; pass: string }> {
    const answer = await grpc.call(
      'IssueTemporaryAccessPass',
      { user_id: userId, recovery_id: recoveryId, idempotency_key: `recovery:${recoveryId.replace(/[^A-Za-z0-9._:-]/g, '.')}:tap`, lifetime_seconds: 0, delivery_channel: 'email', delivery_address: address(userId) },
      manager,
    );
    if (!answer.ok) throw new Error(`issue failed: ${answer.details}`);
    return { passId: answer.response.pass_id, pass: mailbox.codeFor(address(userId)) };
  }
  const redeem = async (userId: string, pass: string) => svc.request('POST', '/v1/step-up', { token: await svc.token(userId), body: { method: 'temporary_access_pass', proof: { code: pass } } });

  it('S25/S29: a redemption is recorded once, as TemporaryAccessPassConsumed with the pass id and its recovery, never the pass', async () => {
    const userId = newUserId('tap-consumed');
    await enrollTotp(svc, userId);
    const { passId, pass } = await issue(userId, `rec-${userId}`);
    expect((await redeem(userId, pass)).status).toBe(200);
    expect((await redeem(userId, pass)).status).toBe(422);
    const stream = await events(svc, userId);
    expect(stream.filter((event) => event.type === 'TemporaryAccessPassConsumed').map((event) => event.data)).toEqual([{ userId, passId, recoveryId: `rec-${userId}` }]);
    expect(JSON.stringify(stream)).not.toContain(pass);
  });

  it('S25: ten parallel redemptions of one pass record one TemporaryAccessPassConsumed', async () => {
    const userId = newUserId('tap-consumed-race');
    await enrollTotp(svc, userId);
    const { pass } = await issue(userId, `rec-${userId}`);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => svc.request('POST', '/v1/verify', { token: verifier, body: { userId, method: 'temporary_access_pass', proof: { code: pass }, clientAddress: `198.51.103.${i}` } })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect((await events(svc, userId)).filter((event) => event.type === 'TemporaryAccessPassConsumed')).toHaveLength(1);
  });

  it('S21: a TOTP app bound with the pass names the recovery and the pass on its enrolment and its confirmation; one bound in a step-up does not', async () => {
    const userId = newUserId('tap-bound');
    const old = await enrollTotp(svc, userId);
    const { passId, pass } = await issue(userId, `rec-${userId}`);
    const assertion = (await redeem(userId, pass)).body.stepUpAssertion as string;
    const fresh = await enrollTotp(svc, userId, { stepUp: assertion });
    const stream = await events(svc, userId);
    const recovery = { recoveryId: `rec-${userId}`, passId };
    expect(stream.find((event) => event.type === 'TotpEnrolled' && event.data.credentialId === fresh.factorId)?.data).toMatchObject({ recovery });
    expect(stream.find((event) => event.type === 'TotpConfirmed' && event.data.credentialId === fresh.factorId)?.data).toMatchObject({ recovery });
    expect(stream.find((event) => event.type === 'TotpConfirmed' && event.data.credentialId === old.factorId)?.data).not.toHaveProperty('recovery');
  });

  it('S21/S25: the step-up of a pass superseded by a newer recovery’s binds nothing', async () => {
    const userId = newUserId('tap-superseded');
    await enrollTotp(svc, userId);
    const first = await issue(userId, `rec-a-${userId}`);
    const firstAssertion = (await redeem(userId, first.pass)).body.stepUpAssertion as string;
    const second = await issue(userId, `rec-b-${userId}`);
    expect((await redeem(userId, second.pass)).status).toBe(200);
    const stale = await svc.request('POST', path(userId, '/factors/totp'), { token: await svc.token(userId), body: { name: 'New phone' }, headers: { 'x-step-up-assertion': firstAssertion } });
    expect(stale).toMatchObject({ status: 403, body: { error: { code: 'tap_not_redeemed' } } });
    expect((await events(svc, userId)).filter((event) => event.type === 'TotpEnrolled')).toHaveLength(1);
  });

  it('S25: a pass that could not be delivered is dropped, so the orchestrator’s retry with the same key sends a new one that works', async () => {
    const userId = newUserId('tap-undelivered');
    const phone = '+4915112345670';
    const recoveryId = `rec-${userId.split('@')[0]}`;
    const request = { user_id: userId, recovery_id: recoveryId, idempotency_key: `recovery:${recoveryId}:tap`, lifetime_seconds: 600, delivery_channel: 'sms', delivery_address: phone };
    gateway.failNext(100); // the webhook channel retries a 503 a few times before giving up
    const failed = await grpc.call('IssueTemporaryAccessPass', request, manager);
    gateway.failNext(0);
    expect(failed).toMatchObject({ ok: false, details: expect.stringMatching(/^delivery_failed/) });
    const stored: { count: string }[] = await svc.service.resources.dataSource.query(`SELECT count(*) FROM temporary_access_passes WHERE user_id = $1`, [userId]);
    expect(Number(stored[0].count)).toBe(0);

    const retried = await grpc.call('IssueTemporaryAccessPass', request, manager);
    expect(retried.ok).toBe(true);
    const redeemed = await redeem(userId, gateway.codeFor(phone));
    expect(redeemed.status).toBe(200);
  });

  it('a frozen account redeems no pass: refused, and the pass stays unused', async () => {
    const userId = newUserId('tap-frozen');
    await enrollTotp(svc, userId);
    const { passId, pass } = await issue(userId, `rec-${userId}`);
    const frozen = await grpc.call('FreezeAccount', { user_id: userId, incident_id: `inc-${userId}`.slice(0, 200), idempotency_key: `freeze:${passId}`, reason: 'suspected compromise' }, manager);
    expect(frozen.ok).toBe(true);
    expect(await redeem(userId, pass)).toMatchObject({ status: 403, body: { error: { code: 'account_frozen' } } });
    const [row]: { used_at: Date | null }[] = await svc.service.resources.dataSource.query(`SELECT used_at FROM temporary_access_passes WHERE pass_id = $1`, [passId]);
    expect(row.used_at).toBeNull();
    expect((await events(svc, userId)).some((event) => event.type === 'TemporaryAccessPassConsumed')).toBe(false);
  });
});
