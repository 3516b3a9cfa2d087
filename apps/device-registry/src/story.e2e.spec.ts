import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '@tessera/contracts';
import { type TestService, createTopics, eventually, startTestService, testKafka, uniqueName } from '@tessera/testing';
import { importAegisPlain } from '@tessera/vault-client';
import type { Consumer, Kafka } from 'kafkajs';
import { Secret, TOTP, URI } from 'otpauth';
import { type AuthTestService, authEnv, startAuthService } from '../../auth-service/src/testing/auth-test-kit.spec';
import { runCli } from '../../cli/src/cli';
import { COMMANDS } from '../../cli/src/commands';
import { type deviceRegistryConfigSchema } from './config';
import { DeviceRegistryDefinition } from './service';

/**
 * The whole story (issue 6), with the real auth-service, the real device-registry, real PostgreSQL and
 * Kafka, and the `tessera` CLI as the user's authenticator:
 *
 *   enrol → back up → lose the device → restore on another → verify → revoke the lost one.
 *
 * TOTP codes are single use per step (S1) with a ±1 step window (S3), so the enrolled factor uses a
 * 120 s period and the story runs inside one step: the confirmation spends step N−1, the step-up that
 * issues backup codes step N, and the verification after the restore step N+1.
 */
const PERIOD = 120;
const PHONE_A_PASSPHRASE = 'phone A keeps its accounts under this';
const PHONE_B_PASSPHRASE = 'phone B is a new device with its own';
const BACKUP_PASSPHRASE = 'the backup passphrase only the user knows';

describe('the recovery story end to end (real auth-service, device-registry, PostgreSQL, Kafka, CLI)', () => {
  let auth: AuthTestService;
  let registry: TestService<typeof deviceRegistryConfigSchema>;
  let kafka: Kafka;
  let reader: Consumer;
  const messages: { topic: string; key: string | null; raw: string }[] = [];
  let dir: string;

  beforeAll(async () => {
    auth = await startAuthService(authEnv());
    kafka = testKafka(uniqueName('story'));
    const devicesTopic = uniqueName('test.story.devices');
    await createTopics(kafka, [devicesTopic]);
    // auth-service publishes to the shared topic, which holds every other test's events too: the
    // registry's new consumer group starts at its end, as if it had consumed everything before.
    const consumerName = uniqueName('story-auth-events');
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(TOPICS.auth);
    await admin.setOffsets({ groupId: `device-registry.${consumerName}`, topic: TOPICS.auth, partitions: ends.map(({ partition, high }) => ({ partition, offset: high })) });
    await admin.disconnect();
    registry = await startTestService(DeviceRegistryDefinition, {
      env: {
        // One identity provider for both services, as in production: the user's token works on both.
        AUTH_JWKS_JSON: auth.issuer.jwksJson(),
        AUTH_EVENTS_TOPIC: TOPICS.auth,
        AUTH_EVENTS_CONSUMER: consumerName,
        DEVICE_EVENTS_TOPIC: devicesTopic,
        AUTH_HTTP_URL: auth.url,
        AUTH_GRPC_URL: auth.service.grpcUrl as string,
        AUTH_SERVICE_TOKEN: await auth.token('device-registry', ['service'], ['factors:manage']),
        STEP_UP_JWKS_URL: `${auth.url}/.well-known/jwks.json`,
      },
    });
    reader = kafka.consumer({ groupId: uniqueName('test.story-reader') });
    await reader.connect();
    await reader.subscribe({ topics: [devicesTopic], fromBeginning: true });
    await reader.run({ eachMessage: async ({ topic, message }) => void messages.push({ topic, key: message.key?.toString() ?? null, raw: message.value?.toString() ?? '' }) });
    dir = mkdtempSync(join(tmpdir(), 'tessera-story-'));
  });

  afterAll(async () => {
    await reader?.disconnect();
    await registry?.stop();
    await auth?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('S23 S29 S31: enrol → back up → lose the device → restore on another → verify → revoke the lost one', async () => {
    const user = `story-${randomUUID().slice(0, 8)}@example.org`;
    const path = (rest: string) => `/v1/users/${encodeURIComponent(user)}${rest}`;
    const token = await auth.token(user);
    const phoneA = { TESSERA_AUTHENTICATOR_FILE: join(dir, 'phone-a.tsvb'), TESSERA_AUTHENTICATOR_PASSPHRASE: PHONE_A_PASSPHRASE };
    const phoneB = { TESSERA_AUTHENTICATOR_FILE: join(dir, 'phone-b.tsvb'), TESSERA_AUTHENTICATOR_PASSPHRASE: PHONE_B_PASSPHRASE };
    const run = async (args: string[], env: Record<string, string>) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli([...args, '--json'], COMMANDS, {
        env: { TESSERA_TOKEN: token, TESSERA_DEVICES_URL: registry.url, TESSERA_VAULT_PASSPHRASE: BACKUP_PASSPHRASE, ...env },
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
      });
      return { code, stdout, stderr };
    };
    const tessera = async (args: string[], env: Record<string, string>) => {
      const { code, stdout, stderr } = await run(args, env);
      if (code !== 0) throw new Error(`tessera ${args.join(' ')} failed (${code}): ${stderr}`);
      return JSON.parse(stdout);
    };
    const stepUpWithBackupCode = async (code: string) => {
      const answer = await auth.request('POST', '/v1/step-up', { token, body: { method: 'backup_code', proof: { code } } });
      expect(answer.status).toBe(200);
      const file = join(dir, `step-up-${randomUUID()}.jwt`);
      writeFileSync(file, answer.body.stepUpAssertion, { mode: 0o600 });
      return file;
    };
    const codeFor = async (env: Record<string, string>, account: string, which: 'code' | 'nextCode' = 'code'): Promise<string> => {
      const lines = (await tessera(['authenticator', '--next'], env)) as { account: string; code: string; nextCode: string }[];
      return lines.find((line) => line.account === account)?.[which] as string;
    };
    const devices = async () => (await registry.request('GET', path('/devices'), { token })).body.devices as { deviceId: string; name: string; status: string }[];

    // The story needs three codes of one time step window (N−1, N, N+1): start well inside a step.
    await eventually(async () => PERIOD - (Math.floor(Date.now() / 1000) % PERIOD) >= 30, 35_000, 250);

    // 1. Enrol: auth-service generates the seed; the CLI authenticator on phone A takes it from the URI,
    //    beside an account of another site.
    const enrol = await auth.request('POST', path('/factors/totp'), { token, body: { name: 'Phone A', period: PERIOD } });
    expect(enrol.status).toBe(201);
    const oldSecret: string = enrol.body.secret;
    const thirdParty = new TOTP({ issuer: 'Forge', label: 'alice', secret: new Secret({ size: 20 }) });
    const uris = join(dir, 'enrol.txt');
    writeFileSync(uris, `${enrol.body.otpauthUri}\n${URI.stringify(thirdParty)}\n`);
    expect((await tessera(['authenticator', 'add', '--from', uris], phoneA)).added).toHaveLength(2);
    unlinkSync(uris);
    const tesseraAccount = `${URI.parse(enrol.body.otpauthUri).issuer}:${URI.parse(enrol.body.otpauthUri).label}`;
    const seed = new TOTP({ secret: Secret.fromBase32(oldSecret), period: PERIOD });
    // The code the app showed a moment ago (the previous step, inside the ±1 window).
    const confirmed = await auth.request('POST', path(`/factors/totp/${enrol.body.factorId}/confirmation`), {
      token,
      body: { code: seed.generate({ timestamp: Date.now() - PERIOD * 1000 }) },
    });
    expect(confirmed.status).toBe(200);

    // device-registry registers phone A from auth-service's TotpConfirmed.
    await eventually(async () => (await devices()).some((device) => device.name === 'Phone A'));
    const lostPhone = (await devices()).find((device) => device.name === 'Phone A') as { deviceId: string };

    // Backup codes (rung 2), inside a step-up with phone A's current code.
    const stepUpA = await auth.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: await codeFor(phoneA, tesseraAccount) } } });
    expect(stepUpA.status).toBe(200);
    const codes = await auth.request('POST', path('/backup-codes'), { token, headers: { 'x-step-up-assertion': stepUpA.body.stepUpAssertion } });
    expect(codes.status).toBe(201);
    const backupCodes: string[] = codes.body.codes;

    // 2. Back up: encrypted in the CLI under the backup passphrase, stored opaque by device-registry (S31).
    const backup = await tessera(['vault', 'backup', '--device', lostPhone.deviceId], phoneA);
    expect(backup).toMatchObject({ version: 1, accounts: 2 });
    await eventually(async () => (await registry.request('GET', path('/readiness'), { token })).body.findings?.includes('only_one_factor'));

    // 3. Phone A is lost: its authenticator is gone; the user reports it.
    unlinkSync(phoneA.TESSERA_AUTHENTICATOR_FILE);
    expect((await registry.request('POST', `/v1/devices/${lostPhone.deviceId}/report-lost`, { token, body: { reason: 'lost' } })).status).toBe(200);

    // 4. Restore on phone B: sign in with a backup code (AAL2 step-up), download inside it, decrypt here.
    //    A mistyped backup passphrase fails with a clear error and leaves phone B's file alone.
    const mistyped = await run(['vault', 'restore', '--step-up-file', await stepUpWithBackupCode(backupCodes[0])], {
      ...phoneB,
      TESSERA_VAULT_PASSPHRASE: 'not the backup passphrase, sorry',
    });
    expect([mistyped.code, mistyped.stderr]).toEqual([1, expect.stringContaining('error: wrong_passphrase_or_tampered: the backup: wrong passphrase')]);
    expect(existsSync(phoneB.TESSERA_AUTHENTICATOR_FILE)).toBe(false);
    const restored = await tessera(['vault', 'restore', '--step-up-file', await stepUpWithBackupCode(backupCodes[1])], phoneB);
    expect(restored).toMatchObject({ backupId: backup.backupId, restored: 2, added: [tesseraAccount, 'Forge:alice'] });
    expect(await codeFor(phoneB, 'Forge:alice')).toBe(thirdParty.generate());
    expect((await tessera(['vault', 'status'], phoneB)).current).toMatchObject({ version: 1, restoreCount: 2 });

    // The same backup, exported in clear for another authenticator app (Aegis' plain format).
    const exported = join(dir, 'export.json');
    expect(await tessera(['vault', 'export', '--format', 'aegis', '--out', exported, '--step-up-file', await stepUpWithBackupCode(backupCodes[2])], phoneB)).toMatchObject({
      exported: 2,
    });
    expect(importAegisPlain(readFileSync(exported, 'utf8')).entries.map((entry) => entry.secret).sort()).toEqual([oldSecret, thirdParty.secret.base32].sort());
    unlinkSync(exported);

    // 5. Verify: the restored authenticator signs in again (its next code: this step's was spent).
    const verified = await auth.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: await codeFor(phoneB, tesseraAccount, 'nextCode') } } });
    expect(verified.status).toBe(200);
    const stepUp = verified.body.stepUpAssertion as string;

    // The lost phone's seed may be in someone else's hands: phone B gets a fresh one of its own.
    const fresh = await auth.request('POST', path('/factors/totp'), { token, body: { name: 'Phone B' }, headers: { 'x-step-up-assertion': stepUp } });
    expect(fresh.status).toBe(201);
    const freshUri = join(dir, 'fresh.txt');
    writeFileSync(freshUri, fresh.body.otpauthUri);
    await tessera(['authenticator', 'add', '--from', freshUri], phoneB);
    unlinkSync(freshUri);
    const freshAccount = `${URI.parse(fresh.body.otpauthUri).issuer}:${URI.parse(fresh.body.otpauthUri).label}`;
    const lines = (await tessera(['authenticator'], phoneB)) as { account: string; code: string }[];
    const freshCode = lines.filter((line) => line.account === freshAccount).at(-1)?.code as string;
    expect((await auth.request('POST', path(`/factors/totp/${fresh.body.factorId}/confirmation`), { token, body: { code: freshCode } })).status).toBe(200);
    await eventually(async () => (await devices()).some((device) => device.name === 'Phone B'));

    // 6. Revoke the lost phone (S23): when device-registry answers, its credential fails in auth-service.
    const revoked = await registry.request('POST', `/v1/devices/${lostPhone.deviceId}/revoke`, { token, headers: { 'x-step-up-assertion': stepUp } });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ revokedCredentialIds: [enrol.body.factorId], device: { status: 'revoked', revocationReason: 'user_removed' } });
    const verifier = await auth.token('idp', ['service'], ['factors:verify']);
    const oldCode = seed.generate({ timestamp: Date.now() + PERIOD * 1000 });
    const withOldSeed = await auth.request('POST', '/v1/verify', { token: verifier, body: { userId: user, method: 'totp', proof: { code: oldCode }, clientAddress: '10.0.0.9' } });
    expect(withOldSeed.status).toBeGreaterThanOrEqual(400);
    expect(withOldSeed.status).toBeLessThan(500);
    const factors = (await auth.request('GET', path('/factors?includeRevoked=true'), { token })).body.factors as { factorId: string; status: string }[];
    expect(factors.find((factor) => factor.factorId === enrol.body.factorId)?.status).toBe('revoked');

    expect((await devices()).map((device) => [device.name, device.status])).toEqual([
      ['Phone A', 'revoked'],
      ['Phone B', 'active'],
    ]);

    // Every step is on device-registry's topic, keyed by the user, for notifications and the audit log.
    const types = () => messages.filter((message) => message.key === user).map((message) => JSON.parse(message.raw).type as string);
    await eventually(async () => types().includes('DeviceRevoked'));
    expect(types()).toEqual(
      expect.arrayContaining(['DeviceRegistered', 'VaultBackupStored', 'DeviceReportedLost', 'VaultBackupRestored', 'DeviceRevoked', 'RecoveryReadinessDropped']),
    );

    // S29: neither device-registry's database nor its topic holds a seed, a code or a passphrase.
    const dataSource = registry.service.resources.dataSource;
    const tables: { table_name: string }[] = await dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    let dump = '';
    for (const { table_name: table } of tables) {
      const rows: { row: string }[] = await dataSource.query(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
      dump += rows.map((row) => row.row).join('\n');
    }
    const published = messages.filter((message) => message.key === user).map((message) => message.raw).join('\n');
    expect(dump).toContain(user);
    const secrets = [oldSecret, fresh.body.secret, thirdParty.secret.base32, ...backupCodes, PHONE_A_PASSPHRASE, PHONE_B_PASSPHRASE, BACKUP_PASSPHRASE];
    for (const secret of secrets) {
      expect(dump.includes(secret)).toBe(false);
      expect(published.includes(secret)).toBe(false);
    }
    for (const hex of [oldSecret, thirdParty.secret.base32].map((base32) => Buffer.from(Secret.fromBase32(base32).bytes).toString('hex'))) {
      expect(dump.toLowerCase().includes(hex)).toBe(false);
    }
    expect(existsSync(phoneA.TESSERA_AUTHENTICATOR_FILE)).toBe(false);
  });

  it("S23 S24 against auth-service: the last factor on a lost device stays outside a recovery; a recovery revokes it over gRPC", async () => {
    const user = `lost-${randomUUID().slice(0, 8)}@example.org`;
    const path = (rest: string) => `/v1/users/${encodeURIComponent(user)}${rest}`;
    const token = await auth.token(user);
    const enrol = await auth.request('POST', path('/factors/totp'), { token, body: { name: 'Only phone' } });
    const seed = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), period: 30 });
    expect((await auth.request('POST', path(`/factors/totp/${enrol.body.factorId}/confirmation`), { token, body: { code: seed.generate() } })).status).toBe(200);
    let phone: { deviceId: string } | undefined;
    await eventually(async () => (phone = (await registry.request('GET', path('/devices'), { token })).body.devices?.[0]) !== undefined);
    const deviceId = (phone as { deviceId: string }).deviceId;
    expect((await registry.request('POST', `/v1/devices/${deviceId}/report-lost`, { token, body: { reason: 'stolen' } })).status).toBe(200);

    // The user (stepping up with the code of the next step) may not strip their only factor (S24):
    // device-registry lets a lost device go, auth-service keeps the last factor, and says so.
    const stepUp = await auth.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: seed.generate({ timestamp: Date.now() + 30_000 }) } } });
    expect(stepUp.status).toBe(200);
    const refused = await registry.request('POST', `/v1/devices/${deviceId}/revoke`, { token, headers: { 'x-step-up-assertion': stepUp.body.stepUpAssertion } });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'last_factor']);
    expect((await registry.request('GET', `/v1/devices/${deviceId}`, { token })).body.status).toBe('lost');
    const factorStatus = async () =>
      ((await auth.request('GET', path('/factors?includeRevoked=true'), { token })).body.factors as { factorId: string; status: string }[]).find(
        (factor) => factor.factorId === enrol.body.factorId,
      )?.status;
    expect(await factorStatus()).toBe('active');

    // Inside a recovery, the recovery workflow revokes it: gRPC RevokeCredential, in force on return (S23).
    const workflow = await auth.token('recovery-orchestrator', ['service'], ['devices:revoke']);
    const revoked = await registry.request('POST', `/v1/devices/${deviceId}/revoke`, {
      token: workflow,
      body: { reason: 'recovery', referenceId: `rec-${randomUUID()}` },
      headers: { 'idempotency-key': `revoke-${randomUUID()}` },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.device).toMatchObject({ status: 'revoked', revocationReason: 'recovery' });
    expect(await factorStatus()).toBe('revoked');
  });
});
