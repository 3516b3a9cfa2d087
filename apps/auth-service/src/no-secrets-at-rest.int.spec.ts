import { Writable } from 'node:stream';
import { decodeBase32Secret, generateTotpCode } from '@tessera/auth-domain';
import { TOPICS } from '@tessera/contracts';
import { eventually, testKafka, uniqueName } from '@tessera/testing';
import { type AuthTestService, authEnv, enrollTotp, newUserId, path, startAuthService } from './testing/auth-test-kit.spec';
import { deliveryEnv, startMailbox, startSmsGateway, type TestMailbox, type TestSmsGateway } from './testing/delivery-servers.spec';
import { authGrpcClient } from './testing/grpc-client.spec';

/**
 * S29/S30 after a full scenario — seeds generated and imported, TOTP, backup, email, SMS codes and a
 * temporary access pass, right and wrong, a revocation and a key rotation: a dump of every table of the
 * service's database, every message of tessera.auth.v1 that the scenario produced, and every log line
 * the service wrote (at debug level) hold none of the secrets in clear, in any of the usual encodings.
 */
describe('auth-service keeps secrets out of its database, Kafka and logs (S29, S30)', () => {
  let mailbox: TestMailbox;
  let gateway: TestSmsGateway;
  let svc: AuthTestService;
  const logs: string[] = [];
  const env = () => authEnv({ ...deliveryEnv(mailbox, gateway), LOG_LEVEL: 'debug' });
  let keys: Record<string, string>;

  beforeAll(async () => {
    [mailbox, gateway] = await Promise.all([startMailbox(), startSmsGateway()]);
    keys = env();
    const capture = new Writable({
      write(chunk, _encoding, callback) {
        logs.push(String(chunk));
        callback();
      },
    });
    svc = await startAuthService(keys, undefined, capture);
  });
  afterAll(async () => {
    await svc?.stop();
    await Promise.all([mailbox?.close(), gateway?.close()]);
  });

  it('S29/S30: no seed, code, pass, pepper or key appears in any table, in the auth topic or in the logs', async () => {
    const secrets = new Map<string, string>();
    const keep = (label: string, value: string) => secrets.set(value, label);
    const keepBytes = (label: string, bytes: Uint8Array) => {
      const buffer = Buffer.from(bytes);
      for (const encoding of ['hex', 'base64', 'base64url'] as const) keep(`${label} (${encoding})`, buffer.toString(encoding));
    };
    const service = await svc.token('idp', ['service'], ['factors:verify']);
    const verify = (userId: string, method: string, proof: object, clientAddress = '198.51.100.70') =>
      svc.request('POST', '/v1/verify', { token: service, body: { userId, method, proof, clientAddress } });

    // TOTP: a generated seed (base32 and URI shown once), confirmed, used, and a wrong code.
    const userId = newUserId('secrets');
    const token = await svc.token(userId);
    const enrol = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Phone' } });
    expect(enrol.status).toBe(201);
    keep('generated seed (base32)', enrol.body.secret);
    keep('otpauth URI', enrol.body.otpauthUri);
    const seed = { secret: decodeBase32Secret(enrol.body.secret), algorithm: enrol.body.algorithm, digits: enrol.body.digits, period: enrol.body.period };
    keepBytes('generated seed', seed.secret);
    const confirmCode = generateTotpCode(seed, new Date());
    keep('confirmation code', confirmCode);
    expect((await svc.request('POST', path(userId, `/factors/totp/${enrol.body.factorId}/confirmation`), { token, body: { code: confirmCode } })).status).toBe(200);
    const signInCode = generateTotpCode(seed, new Date(Date.now() + 30_000));
    keep('TOTP code', signInCode);
    const stepUp = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: signInCode } } });
    expect(stepUp.status).toBe(200);
    keep('step-up assertion', stepUp.body.stepUpAssertion);
    const assertion = stepUp.body.stepUpAssertion;
    const headers = { 'x-step-up-assertion': assertion };

    // An imported seed, by URI and by base32.
    const imported = '7Q2XKPV5JMYCA4TGHU3RWLNEBZ6SD2FO';
    keep('imported seed (base32)', imported);
    keepBytes('imported seed', decodeBase32Secret(imported));
    expect((await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Old app', secret: imported }, headers })).status).toBe(201);
    const importedUri = `otpauth://totp/Acme:x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme`;
    keep('imported URI seed', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    expect((await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'URI app', otpauthUri: importedUri }, headers })).status).toBe(201);

    // Backup codes: generated, one used, one wrong.
    const codes = await svc.request('POST', path(userId, '/backup-codes'), { token, headers });
    expect(codes.status).toBe(201);
    for (const code of codes.body.codes as string[]) {
      keep('backup code', code);
      keep('backup code secret part', code.split('-').slice(1).join('-'));
    }
    expect((await verify(userId, 'backup_code', { code: codes.body.codes[3] })).status).toBe(200);

    // Email and SMS codes.
    const address = `${userId.split('@')[0]}@example.org`;
    const phone = '+15554' + String(Date.now()).slice(-6);
    expect((await svc.request('POST', path(userId, '/factors/email'), { token, body: { address }, headers })).status).toBe(201);
    expect((await svc.request('POST', path(userId, '/factors/sms'), { token, body: { phoneNumber: phone }, headers })).status).toBe(201);
    for (const [method, read] of [['email_otp', () => mailbox.codeFor(address)], ['sms_otp', () => gateway.codeFor(phone)]] as const) {
      expect((await svc.request('POST', '/v1/verify/codes', { token: service, body: { userId, method } })).status).toBe(202);
      const code = read();
      keep(`${method} code`, code);
      expect((await verify(userId, method, { code })).status).toBe(200);
    }

    // A temporary access pass over gRPC, redeemed.
    const grpc = authGrpcClient(svc.service.grpcUrl!);
    const passUser = newUserId('secrets-tap');
    await enrollTotp(svc, passUser);
    const manager = await svc.token('recovery-orchestrator', ['service'], ['factors:manage']);
    const issued = await grpc.call('IssueTemporaryAccessPass', { user_id: passUser, recovery_id: 'rec-secrets', idempotency_key: 'recovery:rec-secrets:tap', lifetime_seconds: 0, delivery_channel: 'email', delivery_address: `${passUser.split('@')[0]}@example.org` }, manager);
    grpc.close();
    expect(issued.ok).toBe(true);
    const pass = mailbox.codeFor(`${passUser.split('@')[0]}@example.org`);
    keep('temporary access pass', pass);
    expect((await verify(passUser, 'temporary_access_pass', { code: pass })).status).toBe(200);

    // Wrong guesses, a revocation and a key rotation.
    for (const wrong of ['000001', '999998']) {
      if (![-1, 0, 1].some((steps) => generateTotpCode(seed, new Date(Date.now() + steps * 30_000)) === wrong)) keep('wrong code', wrong);
      await verify(userId, 'totp', { code: wrong }, '198.51.100.71');
    }
    expect((await svc.request('DELETE', path(userId, `/factors/${enrol.body.factorId}`), { token, headers })).status).toBe(200);
    expect((await svc.request('POST', '/v1/admin/key-rotation', { token: await svc.token('ops', ['admin']) })).status).toBe(200);

    // Key material of the service itself.
    for (const entry of keys.AUTH_KEK_RING.split(',')) keep('key-encryption key', entry.split(':')[1]);
    keep('OTP pepper', keys.AUTH_OTP_PEPPER);
    keep('step-up signing key (d)', JSON.parse(keys.AUTH_STEP_UP_SIGNING_KEY).d);
    keep('SMS webhook secret', keys.AUTH_SMS_WEBHOOK_SECRET);

    // Every table, as text (bytea shows as hex).
    const dataSource = svc.service.resources.dataSource;
    const tables: { table_name: string }[] = await dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    expect(tables.map((table) => table.table_name)).toEqual(expect.arrayContaining(['events', 'totp_seeds', 'backup_codes', 'oob_codes', 'oob_channels', 'temporary_access_passes', 'stream_snapshots', 'idempotency_keys', 'credentials']));
    let dump = '';
    for (const { table_name: table } of tables) {
      const rows: { row: string }[] = await dataSource.query(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
      dump += rows.map((row) => row.row).join('\n');
    }

    // Every message the scenario published to tessera.auth.v1 (the outbox relay runs on its own).
    const expected: { event_id: string }[] = await dataSource.query(`SELECT event_id FROM events`);
    const wanted = new Set(expected.map((row) => row.event_id));
    const kafka = testKafka(uniqueName('secrets-reader'));
    const consumer = kafka.consumer({ groupId: uniqueName('secrets-reader') });
    const published: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: TOPICS.auth, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const text = message.value?.toString('utf8') ?? '';
        const eventId = (JSON.parse(text) as { eventId?: string }).eventId;
        if (eventId && wanted.delete(eventId)) published.push(`${message.key?.toString() ?? ''} ${JSON.stringify(message.headers ?? {})} ${text}`);
      },
    });
    await eventually(async () => wanted.size === 0, 60_000, 200);
    await consumer.disconnect();
    expect(published.length).toBe(expected.length);
    const topic = published.join('\n');
    const logged = logs.join('');
    expect(logged).toContain('request completed');

    const leaks: string[] = [];
    for (const [secret, label] of secrets) {
      // Codes are digits: they must not appear as a number of their own (a digit run inside a longer one is another number).
      const pattern = /^[0-9]+$/.test(secret) ? new RegExp(`(?<![0-9])${secret}(?![0-9])`) : undefined;
      const found = (text: string) => (pattern ? pattern.test(text) : text.includes(secret));
      if (found(dump)) leaks.push(`${label} in the database`);
      if (found(topic)) leaks.push(`${label} on Kafka`);
      if (found(logged)) leaks.push(`${label} in the logs`);
    }
    expect(leaks).toEqual([]);
    expect(secrets.size).toBeGreaterThan(30);
  });
});
