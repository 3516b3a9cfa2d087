import { status } from '@grpc/grpc-js';
import { type AuthTestService, authEnv, enrollTotp, newUserId, path, startAuthService, stepUpWithTotp } from '../testing/auth-test-kit.spec';
import { deliveryEnv, startMailbox, startSmsGateway, type TestMailbox, type TestSmsGateway } from '../testing/delivery-servers.spec';
import { type AuthGrpcClient, authGrpcClient } from '../testing/grpc-client.spec';

/**
 * ListContactChannels (auth.proto): the addresses security notices go to (S22), for service callers
 * holding contacts:read only. Real PostgreSQL, Kafka and the real service over gRPC.
 */
describe('auth-service gRPC ListContactChannels (S22)', () => {
  let mailbox: TestMailbox;
  let gateway: TestSmsGateway;
  let svc: AuthTestService;
  let grpc: AuthGrpcClient;
  let notifier: string;

  beforeAll(async () => {
    [mailbox, gateway] = await Promise.all([startMailbox(), startSmsGateway()]);
    svc = await startAuthService(authEnv(deliveryEnv(mailbox, gateway)));
    grpc = authGrpcClient(svc.service.grpcUrl!);
    notifier = await svc.token('recovery-orchestrator', ['service'], ['contacts:read']);
  });
  afterAll(async () => {
    grpc?.close();
    await svc?.stop();
    await Promise.all([mailbox?.close(), gateway?.close()]);
  });

  /** A user with TOTP, an email address and a phone number; the step-up that bound them is returned for more changes. */
  async function userWithChannels() {
    const userId = newUserId('contacts');
    const email = `${userId.split('@')[0]}@example.org`;
    const phone = `+49151${String(Date.now()).slice(-7)}`;
    const totp = await enrollTotp(svc, userId);
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const token = await svc.token(userId);
    const headers = { 'x-step-up-assertion': stepUp };
    const addedEmail = await svc.request('POST', path(userId, '/factors/email'), { token, body: { address: email }, headers });
    const addedSms = await svc.request('POST', path(userId, '/factors/sms'), { token, body: { phoneNumber: phone }, headers });
    expect([addedEmail.status, addedSms.status]).toEqual([201, 201]);
    return { userId, email, phone, token, headers, emailId: addedEmail.body.factorId as string, smsId: addedSms.body.factorId as string };
  }

  it('S22: answers the decrypted addresses of active email and SMS factors, nothing else of the account', async () => {
    const user = await userWithChannels();
    const answer = await grpc.call('ListContactChannels', { user_id: user.userId }, notifier);
    expect(answer).toEqual({
      ok: true,
      response: {
        channels: [
          { kind: 'email', address: user.email, credential_id: user.emailId },
          { kind: 'sms', address: user.phone, credential_id: user.smsId },
        ],
      },
    });
    // S29: what is stored stays sealed; the clear address exists only in this answer.
    const [row] = await svc.service.resources.dataSource.query(`SELECT destination_ciphertext FROM oob_channels WHERE credential_id = $1`, [user.emailId]);
    expect(row.destination_ciphertext).not.toContain(user.email);
  });

  it("S22/S23: a removed address is left out (its sealed copy is destroyed with it); another user's factors never show", async () => {
    const user = await userWithChannels();
    const removed = await svc.request('DELETE', path(user.userId, `/factors/${user.emailId}`), { token: user.token, headers: user.headers });
    expect(removed.status).toBeLessThan(300);
    expect(await grpc.call('ListContactChannels', { user_id: user.userId }, notifier)).toEqual({ ok: true, response: { channels: [{ kind: 'sms', address: user.phone, credential_id: user.smsId }] } });
    const other = await userWithChannels();
    const answer = await grpc.call('ListContactChannels', { user_id: other.userId }, notifier);
    expect(answer.ok && answer.response.channels.map((channel: { address: string }) => channel.address)).toEqual([other.email, other.phone]);
  });

  it('an unknown user has no channel (the answer does not tell whether the account exists)', async () => {
    expect(await grpc.call('ListContactChannels', { user_id: newUserId('nobody') }, notifier)).toEqual({ ok: true, response: { channels: [] } });
  });

  it('S30: personal data needs a service principal with contacts:read: no token, factor scopes, a person or a bad request get nothing', async () => {
    const user = await userWithChannels();
    const request = { user_id: user.userId };
    expect(await grpc.call('ListContactChannels', request)).toMatchObject({ ok: false, code: status.UNAUTHENTICATED });
    const factorsOnly = await svc.token('device-registry', ['service'], ['factors:read', 'factors:verify', 'factors:manage']);
    expect(await grpc.call('ListContactChannels', request, factorsOnly)).toMatchObject({ ok: false, code: status.PERMISSION_DENIED });
    // The scope alone is not enough: a person's token carrying it is refused too.
    const person = await svc.token(user.userId, ['user'], ['contacts:read']);
    expect(await grpc.call('ListContactChannels', request, person)).toMatchObject({ ok: false, code: status.PERMISSION_DENIED });
    const bad = await grpc.call('ListContactChannels', { user_id: 'no spaces or slashes/allowed' }, notifier);
    expect(bad).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT });
    expect(JSON.stringify(bad)).not.toContain(user.email);
  });
});
