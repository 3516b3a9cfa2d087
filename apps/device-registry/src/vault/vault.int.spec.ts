import { randomUUID } from 'node:crypto';
import { uuidv7 } from '@tessera/util';
import { type VaultEntry, VaultError, decryptVault, encryptVault } from '@tessera/vault-client';
import { Secret } from 'otpauth';
import { FAST, PASSPHRASE, sampleEntries } from '../../../../libs/vault-client/src/lib/test-entries';
import { autoDeviceId } from '../factors/auto-device-id';
import { Housekeeping } from '../registry/housekeeping';
import { type RegistryKit, consumed, startRegistryKit } from '../testing/registry-test-kit.spec';

/**
 * The zero-knowledge authenticator backup vault against real PostgreSQL and Kafka (S31, S29): the
 * client encrypts, the server stores opaque blobs and hands them back only inside a fresh step-up.
 */
/** The fields of an upload's answer these tests read. */
interface UploadAnswer {
  readonly backupId: string;
  readonly sha256: string;
  readonly error: { readonly code: string };
  readonly [field: string]: unknown;
}

describe('device-registry vault (real PostgreSQL and Kafka)', () => {
  let kit: RegistryKit;

  beforeAll(async () => {
    kit = await startRegistryKit();
  });
  afterAll(async () => {
    await kit?.stop();
  });

  const newUser = () => `vault-user-${randomUUID().slice(0, 8)}`;
  const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => kit.registry.service.resources.dataSource.query(sql, params);

  /** PUT the blob as the raw body (fetch directly: the test service's helper sends JSON). */
  async function upload(userId: string, blob: Uint8Array, options: { token?: string; contentType?: string; deviceId?: string; idempotencyKey?: string } = {}) {
    const token = options.token ?? (await kit.userToken(userId));
    const response = await fetch(`${kit.registry.url}/v1/users/${userId}/vault${options.deviceId ? `?deviceId=${options.deviceId}` : ''}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': options.contentType ?? 'application/octet-stream',
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      body: Buffer.from(blob),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as UploadAnswer };
  }

  async function restore(userId: string, options: { token?: string; stepUp?: string | null; body?: unknown; idempotencyKey?: string } = {}) {
    const stepUp = options.stepUp === undefined ? await kit.stepUps.assertion(userId) : options.stepUp;
    return kit.registry.request('POST', `/v1/users/${userId}/vault/restores`, {
      token: options.token ?? (await kit.userToken(userId)),
      body: options.body ?? {},
      headers: {
        ...(stepUp === null ? {} : { 'x-step-up-assertion': stepUp }),
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
    });
  }

  async function failure(promise: Promise<unknown>): Promise<VaultError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof VaultError) return error;
      throw error;
    }
    throw new Error('expected decryption to fail');
  }

  describe('round trip', () => {
    it('S31: a round trip of 1,000 secrets: encrypted on the client, stored opaque, restored inside a step-up, decrypted on the client', async () => {
      const userId = newUser();
      const entries = sampleEntries(1000);
      const blob = await encryptVault(entries, PASSPHRASE, FAST);
      const stored = await upload(userId, blob);
      expect(stored.status).toBe(201);
      expect(stored.body).toMatchObject({ version: 1, formatVersion: 1, sizeBytes: blob.byteLength, replacesBackupId: null });

      const info = await kit.registry.request('GET', `/v1/users/${userId}/vault`, { token: await kit.userToken(userId) });
      expect(info.body.current).toMatchObject({ backupId: stored.body.backupId, version: 1, restoreCount: 0 });
      expect(JSON.stringify(info.body)).not.toContain('blob');

      const restored = await restore(userId);
      expect(restored.status).toBe(200);
      expect(restored.body).toMatchObject({ backupId: stored.body.backupId, sha256: stored.body.sha256 });
      const back = await decryptVault(restored.body.blob, PASSPHRASE);
      expect(back).toEqual(entries);
      const again = await kit.registry.request('GET', `/v1/users/${userId}/vault`, { token: await kit.userToken(userId) });
      expect(again.body.current).toMatchObject({ restoreCount: 1, lastRestoredAt: restored.body.restoredAt });
    });

    it('S29: the database and the topic hold no seed, label or passphrase in clear', async () => {
      const userId = newUser();
      const entries = sampleEntries(50);
      await upload(userId, await encryptVault(entries, PASSPHRASE, FAST));
      expect((await restore(userId)).status).toBe(200);
      await kit.publishedEvent((message) => message.key === userId && message.envelope.type === 'VaultBackupRestored');

      const tables = await query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
      let dump = '';
      for (const { table_name: table } of tables) {
        const rows = await query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table}" t`);
        dump += rows.map((row) => row.row).join('\n');
      }
      // bytea columns appear in hex: the blob is there, encrypted.
      expect(dump).toContain(userId);
      const topic = kit.published.map((message) => message.raw).join('\n');
      for (const entry of entries) {
        const hex = Buffer.from(Secret.fromBase32(entry.secret).bytes).toString('hex');
        for (const haystack of [dump, topic]) {
          expect(haystack.includes(entry.secret)).toBe(false);
          expect(haystack.toLowerCase().includes(hex)).toBe(false);
          expect(haystack.includes(entry.label)).toBe(false);
        }
      }
      expect(dump.includes(PASSPHRASE)).toBe(false);
      expect(topic.includes(PASSPHRASE)).toBe(false);
    });

    it('S31: a wrong passphrase and a tampered blob fail on the client with clear errors', async () => {
      const userId = newUser();
      const entries = sampleEntries(5);
      await upload(userId, await encryptVault(entries, PASSPHRASE, FAST));
      const wrong = await failure(decryptVault((await restore(userId)).body.blob, 'not the passphrase at all, sorry'));
      expect(wrong.code).toBe('wrong_passphrase_or_tampered');
      expect(wrong.message).toMatch(/passphrase is wrong or the backup was modified/);

      // Whoever controls the server's storage flips one ciphertext byte: the client refuses the blob.
      await query(`UPDATE vault_blob_contents SET content = set_byte(content, 60, get_byte(content, 60) # 1) WHERE user_id = $1`, [
        userId,
      ]);
      const tampered = await failure(decryptVault((await restore(userId)).body.blob, PASSPHRASE));
      expect(tampered.code).toBe('wrong_passphrase_or_tampered');
    });

    it('each upload is a new version replacing the last; only the latest blob is kept and restorable', async () => {
      const userId = newUser();
      const first = await upload(userId, await encryptVault(sampleEntries(2), PASSPHRASE, FAST));
      const second = await upload(userId, await encryptVault(sampleEntries(3), PASSPHRASE, FAST));
      expect(second.body).toMatchObject({ version: 2, replacesBackupId: first.body.backupId });
      const info = await kit.registry.request('GET', `/v1/users/${userId}/vault`, { token: await kit.userToken(userId) });
      expect(info.body.versions.map((version: { version: number }) => version.version)).toEqual([2, 1]);
      expect(await query(`SELECT backup_id FROM vault_blob_contents WHERE user_id = $1`, [userId])).toEqual([{ backup_id: second.body.backupId }]);
      const old = await restore(userId, { body: { backupId: first.body.backupId } });
      expect(old.status).toBe(404);
      expect(old.body.error.code).toBe('vault_backup_not_found');
    });

    it('idempotency keys: a retried upload is answered from the first; a retried restore is not replayed (its answer is the backup)', async () => {
      const userId = newUser();
      const blob = await encryptVault(sampleEntries(2), PASSPHRASE, FAST);
      const idempotencyKey = `upload-${randomUUID()}`;
      const first = await upload(userId, blob, { idempotencyKey });
      const retry = await upload(userId, blob, { idempotencyKey });
      expect([first.status, retry.status, retry.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);
      expect(retry.body.backupId).toBe(first.body.backupId);
      const otherBlob = await upload(userId, await encryptVault(sampleEntries(2), PASSPHRASE, FAST), { idempotencyKey });
      expect([otherBlob.status, otherBlob.body.error.code]).toEqual([422, 'idempotency_key_reused']);
      expect(await query(`SELECT version FROM vault_backups WHERE user_id = $1`, [userId])).toEqual([{ version: 1 }]);

      const restoreKey = `restore-${randomUUID()}`;
      expect((await restore(userId, { idempotencyKey: restoreKey })).status).toBe(200);
      const again = await restore(userId, { idempotencyKey: restoreKey });
      expect([again.status, again.body.error.code]).toEqual([409, 'already_done_secret_withheld']);
      expect(JSON.stringify(await query(`SELECT response_body FROM idempotency_keys WHERE key = $1`, [restoreKey]))).not.toContain(first.body.sha256);
    });

    it('a restore is recorded as VaultBackupRestored on the topic (it notifies and is audited), with ids only', async () => {
      const userId = newUser();
      const credentialId = uuidv7();
      await kit.publishAuth('TotpEnrolled', { userId, credentialId, name: 'New phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' });
      await consumed(kit, await kit.publishAuth('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 }));
      const stored = await upload(userId, await encryptVault(sampleEntries(3), PASSPHRASE, FAST));
      const restored = await restore(userId, { body: { deviceId: autoDeviceId(credentialId) } });
      expect(restored.status).toBe(200);
      const message = await kit.publishedEvent((candidate) => candidate.key === userId && candidate.envelope.type === 'VaultBackupRestored');
      expect(message.envelope.data).toEqual({ userId, backupId: stored.body.backupId, deviceId: autoDeviceId(credentialId), restoredAt: restored.body.restoredAt });
      expect(message.envelope.actor).toEqual({ kind: 'user', id: userId });
    });
  });

  describe('restores need a fresh step-up of the user, once, within the rate limit', () => {
    it('refuses without a step-up, with another user\'s, for another account, and a second use of one assertion', async () => {
      const userId = newUser();
      await upload(userId, await encryptVault(sampleEntries(1), PASSPHRASE, FAST));
      const cases: [Parameters<typeof restore>[1], number, string][] = [
        [{ stepUp: null }, 401, 'step_up_required'],
        [{ stepUp: await kit.stepUps.assertion(userId, { ageSeconds: 900 }) }, 401, 'step_up_required'],
        [{ stepUp: await kit.stepUps.assertion(userId, { aal: 1 }) }, 401, 'step_up_insufficient'],
        [{ stepUp: await kit.stepUps.assertion('someone-else') }, 403, 'step_up_wrong_user'],
        [{ token: await kit.userToken('someone-else') }, 403, 'forbidden'],
        [{ token: await kit.registry.token('helpdesk-1', ['helpdesk']) }, 403, 'forbidden'],
        [{ body: { backupId: 'nope' } }, 400, 'invalid_request'],
        [{ body: { extra: true } }, 400, 'invalid_request'],
      ];
      for (const [options, status, code] of cases) {
        const answer = await restore(userId, options);
        expect([answer.status, answer.body.error?.code]).toEqual([status, code]);
      }
      const once = await kit.stepUps.assertion(userId);
      expect((await restore(userId, { stepUp: once })).status).toBe(200);
      const replayed = await restore(userId, { stepUp: once });
      expect([replayed.status, replayed.body.error.code]).toEqual([401, 'step_up_already_used']);
    });

    it('ten parallel restores with one assertion: exactly one succeeds', async () => {
      const userId = newUser();
      await upload(userId, await encryptVault(sampleEntries(1), PASSPHRASE, FAST));
      const stepUp = await kit.stepUps.assertion(userId);
      const answers = await Promise.all(Array.from({ length: 10 }, () => restore(userId, { stepUp })));
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
      for (const answer of answers.filter((candidate) => candidate.status !== 200)) expect([401, 409, 429]).toContain(answer.status);
      const [row] = await query<{ restore_count: number }>(`SELECT restore_count FROM vault_backups WHERE user_id = $1`, [userId]);
      expect(row.restore_count).toBe(1);
    });

    it('restores beyond the hourly limit are refused with 429 and Retry-After', async () => {
      const userId = newUser();
      await upload(userId, await encryptVault(sampleEntries(1), PASSPHRASE, FAST));
      for (let i = 0; i < 5; i++) expect((await restore(userId)).status).toBe(200);
      const limited = await restore(userId);
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('uploads: only the user, only a vault blob, within size, KDF and rate limits', () => {
    it('R7: refuses what is not the user\'s own well-formed blob, with 4xx codes', async () => {
      const userId = newUser();
      const good = await encryptVault(sampleEntries(1), PASSPHRASE, FAST);
      const weak = await encryptVault(sampleEntries(1), PASSPHRASE, { kdf: { log2N: 10, r: 1, p: 1 }, allowWeakKdf: true });
      const cases: [Promise<{ status: number; body: UploadAnswer }>, number, string][] = [
        [upload(userId, good, { token: await kit.userToken('someone-else') }), 403, 'forbidden'],
        [upload(userId, good, { token: await kit.registry.token('admin-1', ['admin']) }), 403, 'forbidden'],
        [upload(userId, good, { contentType: 'text/plain' }), 415, 'unsupported_media_type'],
        [upload(userId, new Uint8Array(0)), 400, 'empty_body'],
        [upload(userId, Buffer.from('JBSWY3DPEHPK3PXP plain secrets are not a backup')), 422, 'invalid_vault_blob'],
        [upload(userId, good.slice(0, 40)), 422, 'invalid_vault_blob'],
        [upload(userId, Buffer.concat([good.slice(0, 4), Buffer.from([9]), good.slice(5)])), 422, 'invalid_vault_blob'],
        [upload(userId, weak), 422, 'weak_vault_kdf'],
        [upload(userId, new Uint8Array(1024 * 1024 + 1)), 413, 'payload_too_large'],
        [upload(userId, good, { deviceId: uuidv7() }), 404, 'device_not_found'],
        [upload(userId, good, { deviceId: 'not-a-uuid' }), 400, 'invalid_request'],
      ];
      for (const [answer, status, code] of cases) {
        const { status: got, body } = await answer;
        expect([got, body.error?.code]).toEqual([status, code]);
      }
      expect(await query(`SELECT 1 FROM vault_backups WHERE user_id = $1`, [userId])).toEqual([]);
      const json = await kit.registry.request('PUT', `/v1/users/${userId}/vault`, { token: await kit.userToken(userId), body: { blob: 'VFNWQg==' } });
      expect([json.status, json.body.error.code]).toEqual([415, 'unsupported_media_type']);
    });

    it('uploads beyond the hourly limit are refused with 429 and Retry-After', async () => {
      const userId = newUser();
      const blob = await encryptVault(sampleEntries(1), PASSPHRASE, FAST);
      for (let i = 0; i < 10; i++) expect((await upload(userId, blob)).status).toBe(201);
      const limited = await upload(userId, blob);
      expect([limited.status, limited.body.error.code]).toEqual([429, 'rate_limited']);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('a backup removes the no_vault_backup finding from readiness', async () => {
      const userId = newUser();
      const credentialId = uuidv7();
      await kit.publishAuth('TotpEnrolled', { userId, credentialId, name: 'Phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' });
      await consumed(kit, await kit.publishAuth('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 }));
      const token = await kit.userToken(userId);
      expect((await kit.registry.request('GET', `/v1/users/${userId}/readiness`, { token })).body.findings).toContain('no_vault_backup');
      const entries: VaultEntry[] = sampleEntries(1);
      await upload(userId, await encryptVault(entries, PASSPHRASE, FAST), { deviceId: autoDeviceId(credentialId) });
      const after = await kit.registry.request('GET', `/v1/users/${userId}/readiness`, { token });
      expect(after.body.findings).not.toContain('no_vault_backup');
      expect(after.body.backupMethods.methods).toContainEqual(expect.objectContaining({ method: 'vault_backup', status: 'present' }));
    });

    it('a backup that ages past 90 days lowers readiness by time alone: the sweep records the drop', async () => {
      const userId = newUser();
      const totp = uuidv7();
      await kit.publishAuth('TotpEnrolled', { userId, credentialId: totp, name: 'Phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' });
      await kit.publishAuth('TotpConfirmed', { userId, credentialId: totp, acceptedTimeStep: 1 });
      await kit.publishAuth('WebAuthnCredentialRegistered', { userId, credentialId: uuidv7(), name: 'Laptop', aaguid: '0f0e0d0c-0b0a-0908-0706-050403020100', deviceBound: false, signCount: 0 });
      await consumed(kit, await kit.publishAuth('BackupCodesGenerated', { userId, credentialId: uuidv7(), count: 2, replacedCredentialId: null }));
      await upload(userId, await encryptVault(sampleEntries(1), PASSPHRASE, FAST));
      const token = await kit.userToken(userId);
      expect((await kit.registry.request('GET', `/v1/users/${userId}/readiness`, { token })).body).toMatchObject({ level: 'good', score: 85 });

      await query(`UPDATE vault_backups SET stored_at = now() - interval '100 days' WHERE user_id = $1`, [userId]);
      await kit.registry.service.app.get(Housekeeping).runOnce();
      const [level] = await query<{ level: string; findings: string[] }>(`SELECT level, findings FROM readiness_levels WHERE user_id = $1`, [userId]);
      expect(level).toEqual({ level: 'fair', findings: ['few_backup_codes_left', 'no_hardware_key', 'vault_backup_stale'] });
      const dropped = await kit.publishedEvent((message) => message.key === userId && message.envelope.type === 'RecoveryReadinessDropped');
      expect(dropped.envelope.data).toMatchObject({ previousLevel: 'good', level: 'fair' });
      expect(dropped.envelope.actor).toEqual({ kind: 'system', id: 'device-registry' });
    });
  });
});
