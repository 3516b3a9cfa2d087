import { randomUUID } from 'node:crypto';
import { Metadata, type ServiceError, credentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from '@tessera/contracts';
import { uuidv7 } from '@tessera/util';
import { autoDeviceId } from '../factors/auto-device-id';
import { type RegistryKit, consumed, startRegistryKit } from '../testing/registry-test-kit.spec';

/**
 * device-registry against real PostgreSQL and Kafka: devices from auth-service's events, the device
 * API, S23 (revocation holds in auth-service before the answer) and S24 (no self-lockout). auth-service
 * is played by AuthServiceStandIn so that its failures can be injected; the story test runs the real one.
 */
const YUBIKEY_5 = 'ee882879-721c-4913-9775-3dfcce97072a';

describe('device-registry devices (real PostgreSQL and Kafka)', () => {
  let kit: RegistryKit;

  beforeAll(async () => {
    kit = await startRegistryKit();
  });
  afterAll(async () => {
    await kit?.stop();
  });

  const newUser = (prefix = 'user') => `${prefix}-${randomUUID().slice(0, 8)}`;
  const request = (method: string, path: string, options: Parameters<RegistryKit['registry']['request']>[2] = {}) =>
    kit.registry.request(method, path, options);
  const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => kit.registry.service.resources.dataSource.query(sql, params);
  const deviceEvents = (userId: string) =>
    query<{ type: string; data: Record<string, unknown> }>(`SELECT event_type AS type, data FROM events WHERE stream_id = $1 ORDER BY stream_version`, [
      `devices-user-${userId}`,
    ]);

  /** A TOTP factor enrolled and confirmed in auth-service, as its events say; the device it registers. */
  async function boundTotp(userId: string, name = 'Pixel 9') {
    const credentialId = uuidv7();
    await kit.publishAuth('TotpEnrolled', { userId, credentialId, name, algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' });
    await consumed(kit, await kit.publishAuth('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 }));
    return { credentialId, deviceId: autoDeviceId(credentialId) };
  }

  async function boundKey(userId: string, aaguid = YUBIKEY_5, deviceBound = true) {
    const credentialId = uuidv7();
    await consumed(kit, await kit.publishAuth('WebAuthnCredentialRegistered', { userId, credentialId, name: 'Key', aaguid, deviceBound, signCount: 0 }));
    return { credentialId, deviceId: autoDeviceId(credentialId) };
  }

  async function backupCodes(userId: string, count = 10) {
    const credentialId = uuidv7();
    await consumed(kit, await kit.publishAuth('BackupCodesGenerated', { userId, credentialId, count, replacedCredentialId: null }));
    return credentialId;
  }

  describe('devices from bound factors', () => {
    it('registers the device a bound factor lives on: kind, name, and the model its AAGUID names (S20)', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const key = await boundKey(userId);
      const token = await kit.userToken(userId);
      const listed = await request('GET', `/v1/users/${userId}/devices`, { token });
      expect(listed.status).toBe(200);
      expect(listed.body.devices).toEqual([
        expect.objectContaining({
          deviceId: phone.deviceId,
          kind: 'phone',
          name: 'Pixel 9',
          status: 'active',
          credentials: [expect.objectContaining({ credentialId: phone.credentialId, factor: 'totp' })],
          lastUsedAt: null,
          model: null,
        }),
        expect.objectContaining({
          deviceId: key.deviceId,
          kind: 'security-key',
          aaguid: YUBIKEY_5,
          model: { name: 'YubiKey 5 Series', category: 'security-key' },
          credentials: [expect.objectContaining({ credentialId: key.credentialId, factor: 'webauthn' })],
        }),
      ]);
      const one = await request('GET', `/v1/devices/${key.deviceId}`, { token });
      expect(one.body).toEqual(listed.body.devices[1]);
    });

    it('a redelivered confirmation registers nothing twice, and a pending factor registers no device', async () => {
      const userId = newUser();
      const credentialId = uuidv7();
      await consumed(kit, await kit.publishAuth('TotpEnrolled', { userId, credentialId, name: 'Phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' }));
      expect(await query(`SELECT 1 FROM device_views WHERE user_id = $1`, [userId])).toHaveLength(0);
      await consumed(kit, await kit.publishAuth('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 }));
      await consumed(kit, await kit.publishAuth('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 }));
      expect(await query(`SELECT device_id FROM device_views WHERE user_id = $1`, [userId])).toEqual([{ device_id: autoDeviceId(credentialId) }]);
      expect((await deviceEvents(userId)).filter((event) => event.type === 'DeviceRegistered')).toHaveLength(1);
    });

    it('records last use from verifications; a use while reported lost raises DeviceUsed.whileReportedLost', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const token = await kit.userToken(userId);
      const usedAt = new Date(Date.now() - 5 * 60_000);
      const verified = { userId, credentialId: phone.credentialId, kind: 'totp' as const, aal: 2 as const, amr: ['otp' as const], timeStep: 5, signCount: null };
      await consumed(kit, await kit.publishAuth('VerificationSucceeded', verified, usedAt));
      expect((await request('GET', `/v1/devices/${phone.deviceId}`, { token })).body.lastUsedAt).toBe(usedAt.toISOString());

      expect((await request('POST', `/v1/devices/${phone.deviceId}/report-lost`, { token, body: { reason: 'stolen' } })).status).toBe(200);
      const later = new Date();
      await consumed(kit, await kit.publishAuth('VerificationSucceeded', { ...verified, timeStep: 6 }, later));
      const used = (await deviceEvents(userId)).filter((event) => event.type === 'DeviceUsed');
      expect(used.map((event) => event.data.whileReportedLost)).toEqual([false, true]);
      expect((await request('GET', `/v1/devices/${phone.deviceId}`, { token })).body).toMatchObject({ status: 'lost', lossReason: 'stolen', lastUsedAt: later.toISOString() });
    });

    it('a factor revoked in auth-service leaves its device; a device left with no credential is revoked', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      await consumed(kit, await kit.publishAuth('CredentialRevoked', { userId, credentialId: phone.credentialId, kind: 'totp', reason: 'user_removed', referenceId: null }));
      const device = (await request('GET', `/v1/devices/${phone.deviceId}`, { token: await kit.userToken(userId) })).body;
      expect(device).toMatchObject({ status: 'revoked', revocationReason: 'user_removed', credentials: [] });
      expect((await deviceEvents(userId)).map((event) => event.type)).toEqual(
        expect.arrayContaining(['DeviceRegistered', 'CredentialUnboundFromDevice', 'DeviceRevoked']),
      );
    });
  });

  describe('the device API', () => {
    it('renames; reports lost, then stolen, never back to lost', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const token = await kit.userToken(userId);
      const renamed = await request('PATCH', `/v1/devices/${phone.deviceId}`, { token, body: { name: "Alice's phone" } });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe("Alice's phone");
      expect((await request('POST', `/v1/devices/${phone.deviceId}/report-lost`, { token })).body.lossReason).toBe('lost');
      expect((await request('POST', `/v1/devices/${phone.deviceId}/report-lost`, { token, body: { reason: 'stolen' } })).body.lossReason).toBe('stolen');
      expect((await request('POST', `/v1/devices/${phone.deviceId}/report-lost`, { token, body: { reason: 'lost' } })).body.lossReason).toBe('stolen');
      expect((await deviceEvents(userId)).filter((event) => event.type === 'DeviceReportedLost')).toHaveLength(2);
    });

    it('explicit registration binds only current credentials of the same user', async () => {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const pending = uuidv7();
      await consumed(kit, await kit.publishAuth('TotpEnrolled', { userId: alice, credentialId: pending, name: 'Tablet app', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' }));
      const bobs = await boundTotp(bob);
      const codes = await backupCodes(alice);
      const token = await kit.userToken(alice);
      const path = `/v1/users/${alice}/devices`;

      const foreign = await request('POST', path, { token, body: { kind: 'tablet', name: 'iPad', credentialIds: [bobs.credentialId] } });
      expect(foreign.status).toBe(422);
      expect(foreign.body.error.code).toBe('unknown_credential');
      const paper = await request('POST', path, { token, body: { kind: 'tablet', name: 'iPad', credentialIds: [codes] } });
      expect(paper.body.error.code).toBe('credential_not_bindable');

      const created = await request('POST', path, { token, body: { kind: 'tablet', name: 'iPad', credentialIds: [pending] } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ kind: 'tablet', name: 'iPad', credentials: [expect.objectContaining({ credentialId: pending, factor: 'totp' })] });
      const again = await request('POST', path, { token, body: { kind: 'phone', name: 'Other', credentialIds: [pending] } });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('credential_already_bound');

      // Confirming the factor later registers no second device: it is held already.
      await consumed(kit, await kit.publishAuth('TotpConfirmed', { userId: alice, credentialId: pending, acceptedTimeStep: 1 }));
      expect((await request('GET', path, { token })).body.devices).toHaveLength(1);
    });

    it("a device of another account is not found; staff read it; only the security team revokes, inside a recovery or an incident", async () => {
      const alice = newUser('alice');
      const phone = await boundTotp(alice);
      await backupCodes(alice);
      const bob = await kit.userToken(newUser('bob'));
      for (const [method, path, body] of [
        ['GET', `/v1/devices/${phone.deviceId}`, undefined],
        ['PATCH', `/v1/devices/${phone.deviceId}`, { name: 'mine now' }],
        ['POST', `/v1/devices/${phone.deviceId}/report-lost`, {}],
        ['POST', `/v1/devices/${phone.deviceId}/revoke`, {}],
      ] as const) {
        const answer = await request(method, path, { token: bob, body });
        expect([method, path, answer.status, answer.body.error.code]).toEqual([method, path, 404, 'device_not_found']);
      }
      expect((await request('GET', `/v1/users/${alice}/devices`, { token: bob })).status).toBe(403);

      const helpdesk = await kit.registry.token('helpdesk-1', ['helpdesk']);
      expect((await request('GET', `/v1/devices/${phone.deviceId}`, { token: helpdesk })).status).toBe(200);
      const helpdeskRevoke = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: helpdesk, body: { reason: 'incident', referenceId: 'inc-1' } });
      expect(helpdeskRevoke.status).toBe(403);

      const officer = await kit.registry.token('officer-1', ['security-officer']);
      const noContext = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: officer });
      expect(noContext.status).toBe(422);
      expect(noContext.body.error.code).toBe('revocation_context_required');
      expect(kit.auth.calls.filter((call) => call.userId === alice)).toEqual([]);

      const revoked = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: officer, body: { reason: 'incident', referenceId: 'inc-7' } });
      expect(revoked.status).toBe(200);
      expect(revoked.body.device).toMatchObject({ status: 'revoked', revocationReason: 'incident' });
      expect(kit.auth.calls.filter((call) => call.userId === alice)).toEqual([
        expect.objectContaining({ via: 'grpc', credentialId: phone.credentialId, reason: 'incident', recoveryId: 'inc-7', authorization: 'Bearer test-service-token' }),
      ]);
    });

    it('R5: parallel renames of one device each succeed or are refused cleanly, and none is lost', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const token = await kit.userToken(userId);
      const names = Array.from({ length: 8 }, (_, i) => `Phone ${i}`);
      const answers = await Promise.all(names.map((name) => request('PATCH', `/v1/devices/${phone.deviceId}`, { token, body: { name } })));
      for (const answer of answers) expect([200, 409]).toContain(answer.status);
      const renamed = (await deviceEvents(userId)).filter((event) => event.type === 'DeviceRenamed').map((event) => event.data.name);
      expect(renamed.length).toBe(answers.filter((answer) => answer.status === 200).length);
      expect((await request('GET', `/v1/devices/${phone.deviceId}`, { token })).body.name).toBe(renamed[renamed.length - 1]);
    });
  });

  describe('revocation', () => {
    /** A user with one phone holding two credentials, and backup codes (so S24 allows removing the phone). */
    async function phoneWithTwoCredentials(userId: string) {
      const first = uuidv7();
      const second = uuidv7();
      for (const credentialId of [first, second]) {
        await consumed(kit, await kit.publishAuth('TotpEnrolled', { userId, credentialId, name: 'App', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' }));
      }
      const token = await kit.userToken(userId);
      const created = await request('POST', `/v1/users/${userId}/devices`, { token, body: { kind: 'phone', name: 'Phone', credentialIds: [first, second] } });
      expect(created.status).toBe(201);
      for (const credentialId of [first, second]) {
        await consumed(kit, await kit.publishAuth('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 }));
      }
      await backupCodes(userId);
      return { deviceId: created.body.deviceId as string, credentialIds: [first, second], token };
    }

    it('S23: every credential is revoked in auth-service, with the user\'s own token and step-up, before the answer', async () => {
      const userId = newUser();
      const phone = await phoneWithTwoCredentials(userId);
      const stepUp = await kit.stepUps.assertion(userId);
      const answer = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: phone.token, headers: { 'x-step-up-assertion': stepUp } });
      expect(answer.status).toBe(200);
      // The stand-in records a revocation before it answers, so these hold at the moment the answer arrived.
      for (const credentialId of phone.credentialIds) expect(kit.auth.isRevoked(credentialId)).toBe(true);
      expect(answer.body).toMatchObject({ alreadyRevoked: false, revokedCredentialIds: phone.credentialIds, device: { status: 'revoked', revocationReason: 'user_removed' } });
      const calls = kit.auth.calls.filter((call) => call.userId === userId);
      expect(calls).toEqual(
        phone.credentialIds.map((credentialId) =>
          expect.objectContaining({ via: 'http', credentialId, authorization: `Bearer ${phone.token}`, stepUp, idempotencyKey: `device-revoke:${phone.deviceId}:${credentialId}` }),
        ),
      );
      const revoked = (await deviceEvents(userId)).find((event) => event.type === 'DeviceRevoked');
      expect(revoked?.data).toMatchObject({ credentialIds: phone.credentialIds, reason: 'user_removed', referenceId: null });

      // A retry is harmless: the same idempotency keys, no second DeviceRevoked.
      const retry = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: phone.token, headers: { 'x-step-up-assertion': stepUp } });
      expect(retry.status).toBe(200);
      expect(retry.body.alreadyRevoked).toBe(true);
      expect(kit.auth.calls.filter((call) => call.userId === userId).map((call) => call.idempotencyKey)).toEqual([...calls, ...calls].map((call) => call.idempotencyKey));
      expect((await deviceEvents(userId)).filter((event) => event.type === 'DeviceRevoked')).toHaveLength(1);
    });

    it('S23: when auth-service does not confirm, nothing is recorded here and a retry completes the revocation', async () => {
      const userId = newUser();
      const phone = await phoneWithTwoCredentials(userId);
      kit.auth.failNext('unavailable');
      const first = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: phone.token, headers: { 'x-step-up-assertion': await kit.stepUps.assertion(userId) } });
      expect(first.status).toBe(503);
      expect(first.body.error.code).toBe('auth_service_unavailable');
      expect((await request('GET', `/v1/devices/${phone.deviceId}`, { token: phone.token })).body.status).toBe('active');
      expect((await deviceEvents(userId)).some((event) => event.type === 'DeviceRevoked')).toBe(false);

      const retry = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: phone.token, headers: { 'x-step-up-assertion': await kit.stepUps.assertion(userId) } });
      expect(retry.status).toBe(200);
      for (const credentialId of phone.credentialIds) expect(kit.auth.isRevoked(credentialId)).toBe(true);
    });

    it('S24: the last usable factor is not revoked outside a recovery, and auth-service is not even asked', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const token = await kit.userToken(userId);
      const refused = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token, headers: { 'x-step-up-assertion': await kit.stepUps.assertion(userId) } });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('last_factor');
      expect(kit.auth.calls.filter((call) => call.userId === userId)).toEqual([]);

      // Inside a recovery, the recovery workflow (a service with devices:revoke) may take it.
      const workflow = await kit.registry.token('recovery-orchestrator', ['service'], ['devices:revoke']);
      const inRecovery = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: workflow, body: { reason: 'recovery', referenceId: 'rec-42' } });
      expect(inRecovery.status).toBe(200);
      expect(inRecovery.body.device.revocationReason).toBe('recovery');
      expect(kit.auth.calls.filter((call) => call.userId === userId)).toEqual([
        expect.objectContaining({ via: 'grpc', credentialId: phone.credentialId, reason: 'recovery', recoveryId: 'rec-42' }),
      ]);
    });

    it("S24: a refusal by auth-service (its own last-factor check) is passed on with auth-service's code", async () => {
      const userId = newUser();
      const phone = await phoneWithTwoCredentials(userId);
      kit.auth.failNext({ code: 'last_factor', status: 409 });
      const answer = await request('POST', `/v1/devices/${phone.deviceId}/revoke`, { token: phone.token, headers: { 'x-step-up-assertion': await kit.stepUps.assertion(userId) } });
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('last_factor');
      expect((await request('GET', `/v1/devices/${phone.deviceId}`, { token: phone.token })).body.status).toBe('active');
    });

    it('S24: two devices revoked in parallel, each the other\'s only alternative: exactly one goes', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId, 'Phone');
      const key = await boundKey(userId);
      const token = await kit.userToken(userId);
      const answers = await Promise.all(
        [phone, key].map(async (device) =>
          request('POST', `/v1/devices/${device.deviceId}/revoke`, { token, headers: { 'x-step-up-assertion': await kit.stepUps.assertion(userId) } }),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      expect(answers.find((answer) => answer.status === 409)?.body.error.code).toBe('last_factor');
      // Only the winner's credential was revoked in auth-service.
      expect(kit.auth.calls.filter((call) => call.userId === userId)).toHaveLength(1);
      const statuses = (await request('GET', `/v1/users/${userId}/devices`, { token })).body.devices.map((device: { status: string }) => device.status);
      expect(statuses.sort()).toEqual(['active', 'revoked']);
    });

    it('a revocation by the user needs a recent step-up of the same user at AAL2, used for one device only', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const key = await boundKey(userId);
      await backupCodes(userId);
      const token = await kit.userToken(userId);
      const revoke = (deviceId: string, stepUp?: string) =>
        request('POST', `/v1/devices/${deviceId}/revoke`, { token, headers: stepUp === undefined ? {} : { 'x-step-up-assertion': stepUp } });
      const cases: [string | undefined, number, string][] = [
        [undefined, 401, 'step_up_required'],
        ['not-a-jwt', 401, 'step_up_required'],
        [await kit.stepUps.assertion(newUser('mallory')), 403, 'step_up_wrong_user'],
        [await kit.stepUps.assertion(userId, { ageSeconds: 600 }), 401, 'step_up_required'],
        [await kit.stepUps.assertion(userId, { aal: 1 }), 401, 'step_up_insufficient'],
        [await kit.stepUps.assertion(userId, { issuer: 'someone-else' }), 401, 'step_up_required'],
        // A bearer token of the callers' issuer is not a step-up assertion.
        [token, 401, 'step_up_required'],
      ];
      for (const [stepUp, status, code] of cases) {
        const answer = await revoke(phone.deviceId, stepUp);
        expect([stepUp?.slice(0, 12), answer.status, answer.body.error?.code]).toEqual([stepUp?.slice(0, 12), status, code]);
      }
      expect(kit.auth.calls.filter((call) => call.userId === userId)).toEqual([]);

      const once = await kit.stepUps.assertion(userId);
      expect((await revoke(phone.deviceId, once)).status).toBe(200);
      const replayed = await revoke(key.deviceId, once);
      expect(replayed.status).toBe(401);
      expect(replayed.body.error.code).toBe('step_up_already_used');
      expect((await request('GET', `/v1/devices/${key.deviceId}`, { token })).body.status).toBe('active');
    });
  });

  describe('recovery readiness', () => {
    it('lists findings and backup methods, and publishes RecoveryReadinessDropped when the level drops', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      await boundKey(userId);
      await backupCodes(userId);
      const token = await kit.userToken(userId);
      const before = await request('GET', `/v1/users/${userId}/readiness`, { token });
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({ level: 'good', findings: ['no_vault_backup'] });
      expect(before.body.backupMethods.toFix).toEqual(['vault_backup']);

      expect((await request('POST', `/v1/devices/${phone.deviceId}/report-lost`, { token })).status).toBe(200);
      const after = await request('GET', `/v1/users/${userId}/readiness`, { token });
      expect(after.body.findings).toEqual(['only_one_factor']);
      expect(after.body.level).toBe('fair');
      const dropped = (await deviceEvents(userId)).filter((event) => event.type === 'RecoveryReadinessDropped');
      expect(dropped).toEqual([
        { type: 'RecoveryReadinessDropped', data: expect.objectContaining({ userId, previousLevel: 'good', level: 'fair', findings: ['only_one_factor'] }) },
      ]);

      // Published through the outbox, keyed by the user.
      const message = await kit.publishedEvent((candidate) => candidate.key === userId && candidate.envelope.type === 'RecoveryReadinessDropped');
      expect(message.envelope.data).toMatchObject({ userId, previousLevel: 'good', level: 'fair' });
    });

    it('used backup codes running low lower the level: the drop is recorded from auth-service\'s events', async () => {
      const userId = newUser();
      await boundTotp(userId);
      await boundKey(userId);
      const codes = await backupCodes(userId, 4);
      await consumed(kit, await kit.publishAuth('BackupCodeUsed', { userId, credentialId: codes, remaining: 0 }));
      const readiness = await request('GET', `/v1/users/${userId}/readiness`, { token: await kit.userToken(userId) });
      expect(readiness.body.findings).toEqual(['no_backup_codes_left', 'no_vault_backup']);
      expect(readiness.body.backupMethods.methods).toContainEqual({ method: 'backup_codes', status: 'missing', remaining: 0 });
      const dropped = (await deviceEvents(userId)).filter((event) => event.type === 'RecoveryReadinessDropped');
      expect(dropped.map((event) => [event.data.previousLevel, event.data.level])).toEqual([['good', 'fair']]);
    });
  });

  describe('idempotency keys (ADR 0008)', () => {
    it('a retried rename with the same key is answered from the first, without a second event; another request with it is refused', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const token = await kit.userToken(userId);
      const headers = { 'idempotency-key': `rename-${randomUUID()}` };
      const first = await request('PATCH', `/v1/devices/${phone.deviceId}`, { token, headers, body: { name: 'Work phone' } });
      const retry = await request('PATCH', `/v1/devices/${phone.deviceId}`, { token, headers, body: { name: 'Work phone' } });
      expect([first.status, retry.status, retry.headers.get('idempotent-replayed')]).toEqual([200, 200, 'true']);
      expect(retry.body).toEqual(first.body);
      const other = await request('PATCH', `/v1/devices/${phone.deviceId}`, { token, headers, body: { name: 'Home phone' } });
      expect([other.status, other.body.error.code]).toEqual([422, 'idempotency_key_reused']);
      expect((await deviceEvents(userId)).filter((event) => event.type === 'DeviceRenamed')).toHaveLength(1);
      const badKey = await request('PATCH', `/v1/devices/${phone.deviceId}`, { token, headers: { 'idempotency-key': 'x' }, body: { name: 'Phone' } });
      expect([badKey.status, badKey.body.error.code]).toEqual([400, 'invalid_idempotency_key']);
    });
  });

  describe('gRPC DeviceRegistry (devices.proto)', () => {
    /** The fields of the answers these tests read. */
    interface Answer {
      readonly devices: { device_id: string; kind: string; model: unknown }[];
      readonly status: string;
      readonly loss_reason: string;
      readonly [field: string]: unknown;
    }
    type Call = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: Answer) => void) => void;
    let client: Record<'ListDevices' | 'GetDevice' | 'ReportDeviceLost' | 'RevokeDevice' | 'GetReadiness' | 'GetVaultBackup' | 'RenameDevice', Call> & { close(): void };

    beforeAll(() => {
      const definition = loadSync(protoPath('devices'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
      const loaded = loadPackageDefinition(definition) as unknown as {
        tessera: { devices: { v1: { DeviceRegistry: new (url: string, creds: ReturnType<typeof credentials.createInsecure>) => typeof client } } };
      };
      client = new loaded.tessera.devices.v1.DeviceRegistry(kit.registry.service.grpcUrl as string, credentials.createInsecure());
    });
    afterAll(() => client?.close());

    const call = async (method: keyof typeof client & string, message: object, token?: string) => {
      const metadata = new Metadata();
      if (token) metadata.set('authorization', `Bearer ${token}`);
      return new Promise<{ error: ServiceError | null; response: Answer }>((resolve) =>
        (client[method as 'ListDevices'] as Call).call(client, message, metadata, (error, response) => resolve({ error, response })),
      );
    };

    it('lists, reports lost and revokes under the same rules as REST, with idempotency keys', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      await boundKey(userId);
      await backupCodes(userId);
      const token = await kit.userToken(userId);

      const listed = await call('ListDevices', { user_id: userId }, token);
      expect(listed.error).toBeNull();
      expect(listed.response.devices.map((device) => device.device_id)).toContain(phone.deviceId);
      expect(listed.response.devices.find((device) => device.kind === 'security-key')?.model).toEqual({ name: 'YubiKey 5 Series', category: 'security-key' });

      const key = `grpc-lost-${randomUUID()}`;
      const lost = await call('ReportDeviceLost', { device_id: phone.deviceId, reason: 'stolen', idempotency_key: key }, token);
      const again = await call('ReportDeviceLost', { device_id: phone.deviceId, reason: 'stolen', idempotency_key: key }, token);
      expect([lost.response.status, lost.response.loss_reason, again.response.loss_reason]).toEqual(['lost', 'stolen', 'stolen']);

      const workflow = await kit.registry.token('recovery-orchestrator', ['service'], ['devices:revoke', 'devices:read']);
      const revoked = await call('RevokeDevice', { device_id: phone.deviceId, reason: 'recovery', reference_id: 'rec-9', idempotency_key: `grpc-revoke-${randomUUID()}` }, workflow);
      expect(revoked.error).toBeNull();
      expect(revoked.response).toMatchObject({ already_revoked: false, revoked_credential_ids: [phone.credentialId], device: { status: 'revoked', revocation_reason: 'recovery' } });
      expect(kit.auth.isRevoked(phone.credentialId)).toBe(true);

      const readiness = await call('GetReadiness', { user_id: userId }, workflow);
      expect(readiness.response).toMatchObject({ user_id: userId, findings: expect.arrayContaining(['only_one_factor']) });
      expect((await call('GetVaultBackup', { user_id: userId }, token)).response).toMatchObject({ exists: false });
    });

    it('R7: bad input, a missing token and another user\'s device are gRPC errors with Tessera codes', async () => {
      const userId = newUser();
      const phone = await boundTotp(userId);
      const token = await kit.userToken(userId);
      const stranger = await kit.userToken(newUser('stranger'));
      const cases: [keyof typeof client & string, object, string | undefined, number, string][] = [
        ['GetDevice', { device_id: 'nope' }, token, status.INVALID_ARGUMENT, 'invalid_request'],
        ['ListDevices', { user_id: userId }, undefined, status.UNAUTHENTICATED, 'unauthenticated'],
        ['ListDevices', { user_id: userId }, stranger, status.PERMISSION_DENIED, 'forbidden'],
        ['GetDevice', { device_id: phone.deviceId }, stranger, status.NOT_FOUND, 'device_not_found'],
        ['RenameDevice', { device_id: phone.deviceId, name: '' }, token, status.INVALID_ARGUMENT, 'invalid_request'],
        ['RevokeDevice', { device_id: phone.deviceId, reason: 'recovery' }, token, status.INVALID_ARGUMENT, 'invalid_request'],
        ['RevokeDevice', { device_id: phone.deviceId }, token, status.UNAUTHENTICATED, 'step_up_required'],
      ];
      for (const [method, message, bearer, code, tessera] of cases) {
        const { error } = await call(method, message, bearer);
        expect([method, error?.code, error?.details?.split(':')[0]]).toEqual([method, code, tessera]);
      }
    });
  });

  describe('R7: bad input is answered 4xx with a machine-readable code on every endpoint', () => {
    it.each([
      ['GET', '/v1/users/%20/devices', undefined, 400, 'invalid_request'],
      ['GET', '/v1/users/u1/devices?status=gone', undefined, 400, 'invalid_request'],
      ['GET', '/v1/users/u1/devices?extra=1', undefined, 400, 'invalid_request'],
      ['POST', '/v1/users/u1/devices', { kind: 'toaster', name: 'x' }, 400, 'invalid_request'],
      ['POST', '/v1/users/u1/devices', { kind: 'phone' }, 400, 'invalid_request'],
      ['POST', '/v1/users/u1/devices', { kind: 'phone', name: 'x', credentialIds: ['not-a-uuid'] }, 400, 'invalid_request'],
      ['POST', '/v1/users/u1/devices', { kind: 'phone', name: 'x', credentialIds: 'x' }, 400, 'invalid_request'],
      ['POST', '/v1/users/u1/devices', { kind: 'phone', name: 'x', secret: 'JBSWY3DPEHPK3PXP' }, 400, 'invalid_request'],
      ['POST', '/v1/users/u1/devices', { kind: 'phone', name: '\u202Egnp.exe' }, 422, 'invalid_device_name'],
      ['POST', '/v1/users/u1/devices', { kind: 'phone', name: 'x', aaguid: 'zz' }, 400, 'invalid_request'],
      ['GET', '/v1/devices/not-a-uuid', undefined, 400, 'invalid_request'],
      ['GET', `/v1/devices/${uuidv7()}`, undefined, 404, 'device_not_found'],
      ['PATCH', `/v1/devices/${uuidv7()}`, { name: 7 }, 400, 'invalid_request'],
      ['PATCH', `/v1/devices/${uuidv7()}`, { name: 'x'.repeat(65) }, 400, 'invalid_request'],
      ['PATCH', `/v1/devices/${uuidv7()}`, {}, 400, 'invalid_request'],
      ['POST', `/v1/devices/${uuidv7()}/report-lost`, { reason: 'misplaced' }, 400, 'invalid_request'],
      ['POST', `/v1/devices/${uuidv7()}/revoke`, { reason: 'recovery' }, 400, 'invalid_request'],
      ['POST', `/v1/devices/${uuidv7()}/revoke`, { reason: 'whim', referenceId: 'x' }, 400, 'invalid_request'],
      ['GET', `/v1/users/${'u'.repeat(201)}/readiness`, undefined, 400, 'invalid_request'],
      ['GET', '/v1/users/a%2Fb/readiness', undefined, 400, 'invalid_request'],
    ])('%s %s %j → %i %s', async (method, path, body, status, code) => {
      const answer = await request(method, path, { token: await kit.userToken('u1'), body });
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+/);
    });

    it('no token, a bad token, malformed JSON, a huge body and a deep body are refused on every route', async () => {
      const token = await kit.userToken('u1');
      const routes = [
        ['GET', '/v1/users/u1/devices'],
        ['POST', '/v1/users/u1/devices'],
        ['GET', `/v1/devices/${uuidv7()}`],
        ['PATCH', `/v1/devices/${uuidv7()}`],
        ['POST', `/v1/devices/${uuidv7()}/report-lost`],
        ['POST', `/v1/devices/${uuidv7()}/revoke`],
        ['GET', '/v1/users/u1/readiness'],
        ['GET', '/v1/users/u1/vault'],
        ['PUT', '/v1/users/u1/vault'],
        ['POST', '/v1/users/u1/vault/restores'],
      ] as const;
      let deep: unknown = 'x';
      for (let i = 0; i < 40; i++) deep = { a: deep };
      for (const [method, path] of routes) {
        expect([path, (await request(method, path)).status]).toEqual([path, 401]);
        expect([path, (await request(method, path, { token: `${token}x` })).status]).toEqual([path, 401]);
        if (method === 'GET') continue;
        const malformed = await request(method, path, { token, rawBody: '{"name":' });
        expect([path, malformed.status, malformed.body.error.code]).toEqual([path, 400, 'malformed_json']);
        const huge = await request(method, path, { token, body: { name: 'x'.repeat(70_000) } });
        expect([path, huge.status, huge.body.error.code]).toEqual([path, 413, 'payload_too_large']);
        const nested = await request(method, path, { token, body: deep });
        expect([path, nested.status, nested.body.error.code]).toEqual([path, 400, 'body_too_deep']);
      }
    });
  });
});
