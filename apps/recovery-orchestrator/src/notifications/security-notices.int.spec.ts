import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { TOPICS } from '@tessera/contracts';
import { toEnvelope, toStoredEvent } from '@tessera/event-store';
import { deriveIdempotencyKey, verifyWebhookSignature } from '@tessera/notifications';
import { eventually, type TestService, startTestService, testKafka, uniqueName } from '@tessera/testing';
import type { Producer } from 'kafkajs';
import { SMTPServer } from 'smtp-server';
import { type AuthTestService, authEnv, enrollTotp, newUserId, path, startAuthService, stepUpWithTotp } from '../../../auth-service/src/testing/auth-test-kit.spec';
import { deliveryEnv, startMailbox, startSmsGateway, type TestMailbox, type TestSmsGateway } from '../../../auth-service/src/testing/delivery-servers.spec';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../service';

/** A real SMTP server receiving the orchestrator's notices, keyed by Message-ID. */
async function startNoticeMailbox() {
  const received: { to: string[]; raw: string; messageId: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({ to: session.envelope.rcptTo.map((address) => address.address.toLowerCase()), raw, messageId: /^Message-ID:\s*<([^>]+)>/im.exec(raw)?.[1] ?? '' });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface SignedRequest {
  readonly key: string;
  readonly payload: { id: string; channel: string; to: string; template: string; text: string };
  readonly status: number;
}

/** A real signed-webhook receiver (SMS gateway and push service alike): checks every signature, may fail on purpose. */
async function startNoticeReceiver(secret: string) {
  const requests: SignedRequest[] = [];
  let fail: (payload: SignedRequest['payload']) => boolean = () => false;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyWebhookSignature(secret, request.headers['tessera-signature'] as string | undefined, body, new Date());
      const payload = JSON.parse(body) as SignedRequest['payload'];
      const status = !valid ? 401 : fail(payload) ? 503 : 202;
      requests.push({ key: String(request.headers['tessera-idempotency-key']), payload, status });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ id: randomUUID() }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (suffix: string) => `http://127.0.0.1:${port}/${suffix}`,
    requests,
    failWhen: (predicate: typeof fail) => void (fail = predicate),
    accepted: () => requests.filter((entry) => entry.status === 202),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * S22 end to end: factors bound and removed in the real auth-service, and device-registry's facts on
 * tessera.devices.v1, reach the user on every channel through the orchestrator's notices consumer —
 * real Kafka, PostgreSQL, SMTP and signed webhooks; the directory is the real auth-service's
 * ListContactChannels. (The organisation-wide push webhook is composed in by the same directory; its
 * unit test covers it, since with it configured no user is without a channel.)
 */
describe('security notices from account changes (S22)', () => {
  const SECRET = 'notice-webhook-secret-of-at-least-32-bytes!!';
  let codeMailbox: TestMailbox;
  let codeGateway: TestSmsGateway;
  let mailbox: Awaited<ReturnType<typeof startNoticeMailbox>>;
  let receiver: Awaited<ReturnType<typeof startNoticeReceiver>>;
  let auth: AuthTestService;
  let orchestrator: TestService<typeof recoveryOrchestratorConfigSchema>;
  let producer: Producer;
  let group: string;
  const logs: string[] = [];
  const orgOnlyUser = newUserId('org-only');
  const orgOnlyEmail = `${orgOnlyUser.split('@')[0]}@org.example`;

  beforeAll(async () => {
    [codeMailbox, codeGateway, mailbox] = await Promise.all([startMailbox(), startSmsGateway(), startNoticeMailbox()]);
    receiver = await startNoticeReceiver(SECRET);
    auth = await startAuthService(authEnv(deliveryEnv(codeMailbox, codeGateway)));
    const name = uniqueName('notices');
    group = `recovery-orchestrator.${name}`;
    // The shared topics hold every other test's events: the group starts at their end (as if it had
    // run all along) instead of reading days of them first.
    const admin = testKafka('notices-test-admin').admin();
    await admin.connect();
    try {
      for (const topic of [TOPICS.auth, TOPICS.devices]) await admin.resetOffsets({ groupId: group, topic, earliest: false });
    } finally {
      await admin.disconnect();
    }
    orchestrator = await startTestService(RecoveryOrchestratorDefinition, {
      env: {
        TEMPORAL_TASK_QUEUE: uniqueName('notices-queue'),
        AUTH_GRPC_ADDRESS: auth.service.grpcUrl as string,
        AUTH_GRPC_TOKEN: await auth.token('recovery-orchestrator', ['service'], ['factors:verify', 'factors:read', 'factors:manage', 'contacts:read']),
        NOTICES_CONSUMER: name,
        NOTICES_MAX_AGE: '10m',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(mailbox.port),
        SMTP_SECURITY: 'none',
        SMTP_FROM: 'security@tessera.test',
        SMS_WEBHOOK_URL: receiver.url('sms'),
        SMS_WEBHOOK_SECRET: SECRET,
        RECOVERY_CONTACTS_JSON: JSON.stringify({ [orgOnlyUser]: [{ kind: 'email', address: orgOnlyEmail }] }),
        LOG_LEVEL: 'info',
      },
      logDestination: new Writable({ write: (chunk: Buffer, _encoding, callback) => (logs.push(chunk.toString('utf8')), callback()) }),
    });
    producer = testKafka('notices-test').producer();
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await orchestrator?.stop();
    await auth?.stop();
    await Promise.all([codeMailbox?.close(), codeGateway?.close(), mailbox?.close(), receiver?.close()]);
  });

  /** A user with TOTP and, as the test asks, an email address and a phone number (their notices go there). */
  async function user(channels: { email?: boolean; phone?: boolean } = { email: true, phone: true }) {
    const userId = newUserId('notices');
    const email = `${userId.split('@')[0].toLowerCase()}@example.org`;
    const phone = `+4915${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
    const totp = await enrollTotp(auth, userId);
    const stepUp = await stepUpWithTotp(auth, userId, totp);
    const token = await auth.token(userId);
    const headers = { 'x-step-up-assertion': stepUp };
    if (channels.email) expect((await auth.request('POST', path(userId, '/factors/email'), { token, body: { address: email }, headers })).status).toBe(201);
    if (channels.phone) expect((await auth.request('POST', path(userId, '/factors/sms'), { token, body: { phoneNumber: phone }, headers })).status).toBe(201);
    return { userId, email, phone, totp, token, headers };
  }

  /** The stored auth event of `type` about `credentialId` (its id is the notice's key). */
  async function authEvent(userId: string, type: string, credentialId: string) {
    const rows = await auth.service.resources.dataSource.query(
      `SELECT global_position, stream_id, stream_version, event_id, event_type, schema_version, partition_key, data, metadata, occurred_at
         FROM events WHERE stream_id = $1 AND event_type = $2 AND data->>'credentialId' = $3`,
      [`auth-user-${userId}`, type, credentialId],
    );
    expect(rows).toHaveLength(1);
    return toEnvelope(toStoredEvent(rows[0]));
  }

  const mailsFor = (key: string, address: string) => {
    const messageId = createHash('sha256').update(deriveIdempotencyKey(key, 'email', address), 'utf8').digest('hex').slice(0, 40);
    return mailbox.received.filter((mail) => mail.messageId.startsWith(messageId));
  };
  const webhooksFor = (key: string, kind: 'sms', address: string) => receiver.accepted().filter((entry) => entry.key === deriveIdempotencyKey(key, kind, address));
  const processed = async (eventId: string) =>
    (await orchestrator.service.resources.dataSource.query(`SELECT 1 FROM processed_messages WHERE consumer_group = $1 AND event_id = $2`, [group, eventId])).length === 1;

  async function publishDeviceEvent(userId: string, type: string, data: Record<string, unknown>) {
    const event = {
      eventId: randomUUID(),
      type,
      version: 1,
      streamId: `devices-user-${userId}`,
      occurredAt: new Date().toISOString(),
      actor: { kind: 'user', id: userId },
      correlationId: randomUUID(),
      causationId: null,
      data,
    };
    await producer.send({ topic: TOPICS.devices, messages: [{ key: userId, value: JSON.stringify(event), headers: { 'event-type': type, 'event-id': event.eventId } }] });
    return event;
  }

  it('S22: a TOTP bound in auth-service is mailed and texted once, and a redelivery of its event sends nothing again', async () => {
    const alice = await user();
    const totp2 = await enrollTotp(auth, alice.userId, { stepUp: alice.headers['x-step-up-assertion'] });
    const bound = await authEvent(alice.userId, 'TotpConfirmed', totp2.factorId);
    const key = `notice:${bound.eventId}`;

    await eventually(async () => mailsFor(key, alice.email).length === 1 && webhooksFor(key, 'sms', alice.phone).length === 1, 90_000, 250);
    const mail = mailsFor(key, alice.email)[0];
    expect(mail.to).toEqual([alice.email]);
    expect(mail.raw).toContain('A sign-in method was added to your account');
    expect(webhooksFor(key, 'sms', alice.phone)[0].payload).toMatchObject({ channel: 'sms', to: alice.phone, template: 'factor-bound' });

    // R1: the relay may publish an event twice; the same bytes arrive again, then a later event of the user.
    await producer.send({ topic: TOPICS.auth, messages: [{ key: alice.userId, value: JSON.stringify(bound), headers: { 'event-type': bound.type, 'event-id': bound.eventId } }] });
    const removed = await auth.request('DELETE', path(alice.userId, `/factors/${totp2.factorId}`), { token: alice.token, headers: alice.headers });
    expect(removed.status).toBeLessThan(300);
    const revoked = await authEvent(alice.userId, 'CredentialRevoked', totp2.factorId);
    // S22: the removal is told as well (the same partition, so after the duplicate).
    await eventually(async () => mailsFor(`notice:${revoked.eventId}`, alice.email).length === 1 && webhooksFor(`notice:${revoked.eventId}`, 'sms', alice.phone).length === 1, 90_000, 250);
    expect(mailsFor(`notice:${revoked.eventId}`, alice.email)[0].raw).toContain('A sign-in method was removed from your account');

    expect(mailsFor(key, alice.email)).toHaveLength(1);
    expect(webhooksFor(key, 'sms', alice.phone)).toHaveLength(1);
    expect(receiver.requests.filter((entry) => entry.key === deriveIdempotencyKey(key, 'sms', alice.phone))).toHaveLength(1);
  });

  it('S22 (issue 6): a vault restore from device-registry is told as a new binding; an SMS gateway failing at first loses nothing and mails nothing twice', async () => {
    const bob = await user();
    let failures = 2;
    receiver.failWhen((payload) => payload.template === 'authenticator-restored' && payload.to === bob.phone && failures-- > 0);
    const restored = await publishDeviceEvent(bob.userId, 'VaultBackupRestored', { userId: bob.userId, backupId: randomUUID(), deviceId: null, restoredAt: new Date().toISOString() });
    const key = `notice:${restored.eventId}`;

    await eventually(async () => webhooksFor(key, 'sms', bob.phone).length === 1, 120_000, 250);
    expect(receiver.requests.filter((entry) => entry.key === deriveIdempotencyKey(key, 'sms', bob.phone) && entry.status === 503).length).toBeGreaterThanOrEqual(1);
    expect(webhooksFor(key, 'sms', bob.phone)[0].payload.text).toContain('authenticator backup was restored');
    // The email went out at the first attempt; the retries that the SMS needed did not send it again.
    expect(mailsFor(key, bob.email)).toHaveLength(1);
    expect(mailsFor(key, bob.email)[0].raw).toContain('Your authenticator backup was restored');
  });

  it('S22: a device reported lost and a device revoked are told; the organisation directory serves a user with no email or SMS factor', async () => {
    const lost = await publishDeviceEvent(orgOnlyUser, 'DeviceReportedLost', { userId: orgOnlyUser, deviceId: randomUUID(), reason: 'stolen', reportedAt: new Date().toISOString() });
    const revoked = await publishDeviceEvent(orgOnlyUser, 'DeviceRevoked', { userId: orgOnlyUser, deviceId: randomUUID(), reason: 'user_removed', referenceId: null, credentialIds: [], revokedAt: new Date().toISOString() });
    await eventually(async () => mailsFor(`notice:${lost.eventId}`, orgOnlyEmail).length === 1 && mailsFor(`notice:${revoked.eventId}`, orgOnlyEmail).length === 1, 90_000, 250);
    expect(mailsFor(`notice:${lost.eventId}`, orgOnlyEmail)[0].raw).toContain('A device was reported stolen');
    expect(mailsFor(`notice:${revoked.eventId}`, orgOnlyEmail)[0].raw).toContain('A device was removed from your account');
  });

  it('S22: a user with no channel gets nothing, and the consumer carries on', async () => {
    const carol = newUserId('nobody');
    const restored = await publishDeviceEvent(carol, 'VaultBackupRestored', { userId: carol, backupId: randomUUID(), deviceId: null, restoredAt: new Date().toISOString() });
    await eventually(() => processed(restored.eventId), 90_000, 250);
    const key = `notice:${restored.eventId}`;
    expect(mailbox.received.filter((mail) => mail.raw.includes(key))).toEqual([]);
    expect(receiver.requests.filter((entry) => entry.key.startsWith(`${key}~`))).toEqual([]);
    expect(logs.join('')).toContain('"channels":0');

    const dave = await user({ email: true });
    const later = await publishDeviceEvent(dave.userId, 'DeviceReportedLost', { userId: dave.userId, deviceId: randomUUID(), reason: 'lost', reportedAt: new Date().toISOString() });
    await eventually(async () => mailsFor(`notice:${later.eventId}`, dave.email).length === 1, 90_000, 250);
  });

  it("S29/S30: notices carry no seed, code or another user's address, and the logs no address at all", async () => {
    const erin = await user();
    const frank = await user();
    await eventually(async () => mailbox.received.some((mail) => mail.to.includes(erin.email)) && mailbox.received.some((mail) => mail.to.includes(frank.email)), 90_000, 250);
    const seeds = [erin, frank].map((person) => Buffer.from(person.totp.seed.secret).toString('hex'));
    for (const [owner, other] of [
      [erin, frank],
      [frank, erin],
    ] as const) {
      const bodies = [
        ...mailbox.received.filter((mail) => mail.to.includes(owner.email)).map((mail) => mail.raw),
        ...receiver.requests.filter((entry) => entry.payload.to === owner.phone).map((entry) => entry.payload.text),
      ];
      expect(bodies.length).toBeGreaterThan(0);
      for (const body of bodies) {
        for (const forbidden of [other.email, other.phone, other.userId, ...seeds, owner.totp.code(0), owner.totp.code(1)]) expect(body).not.toContain(forbidden);
        // A binding notice has no digits run that could be a code.
        expect(body.replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, '')).not.toMatch(/(?<![0-9a-f])\d{6,10}(?![0-9a-f])/);
      }
    }
    const logged = logs.join('');
    expect(logged).toContain('security notice sent');
    for (const personal of [erin.email, erin.phone, frank.email, frank.phone, orgOnlyEmail]) expect(logged).not.toContain(personal);
  });
});
