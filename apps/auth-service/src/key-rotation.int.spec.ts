import { randomBytes } from 'node:crypto';
import { EnvelopeCipher, parseKeyRing } from '@tessera/crypto';
import { createTestDatabase, type TestDatabase } from '@tessera/testing';
import { generateKeyMaterial } from './config/auth-keys';
import { type AuthTestService, authEnv, enrollTotp, type EnrolledTotp, newUserId, startAuthService } from './testing/auth-test-kit.spec';

/**
 * S28 key rotation while the service runs, as an operator does it across instances: first every instance
 * learns the new key-encryption key, then the new key becomes current, the stored data keys are re-wrapped
 * under it while verifications go on, and only then is the old key removed.
 */
describe('auth-service key rotation without downtime (S28)', () => {
  const old = `k1-${randomBytes(2).toString('hex')}`;
  const next = `k2-${randomBytes(2).toString('hex')}`;
  const oldKey = `${old}:${randomBytes(32).toString('base64')}`;
  const nextKey = `${next}:${randomBytes(32).toString('base64')}`;
  const shared = generateKeyMaterial();
  const ring = (entries: string[], current: string) => authEnv({ ...shared, AUTH_KEK_RING: entries.join(','), AUTH_KEK_CURRENT: current });
  let database: TestDatabase;
  const running: AuthTestService[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('auth_rotation');
  });
  afterAll(async () => {
    for (const svc of running) await svc.service.stop().catch(() => undefined);
    await database?.drop();
  });

  const start = async (env: Record<string, string>) => {
    const svc = await startAuthService(env, database);
    running.push(svc);
    return svc;
  };
  const verify = async (svc: AuthTestService, userId: string, totp: EnrolledTotp) =>
    svc.request('POST', '/v1/verify', { token: await svc.token('idp', ['service'], ['factors:verify']), body: { userId, method: 'totp', proof: { code: totp.code(1) }, clientAddress: '198.51.100.60' } });
  const keyIdsInUse = async (cipher: EnvelopeCipher) => {
    const rows: { seed_ciphertext: string }[] = await running.at(-1)!.service.resources.dataSource.query(`SELECT seed_ciphertext FROM totp_seeds`);
    return Promise.all(rows.map((row) => cipher.needsRewrap(row.seed_ciphertext)));
  };

  it('S28: a new key is rolled out, made current, every data key re-wrapped while verifications go on, and the old key removed; old and new secrets verify throughout', async () => {
    // Before: one key.
    const before = await start(ring([oldKey], old));
    const users = await Promise.all(Array.from({ length: 5 }, async () => {
      const userId = newUserId('rotation');
      return { userId, totp: await enrollTotp(before, userId) };
    }));

    // Step 1, rolling out: an instance that knows both keys and writes under the new one, beside the old instance.
    const rolled = await start(ring([oldKey, nextKey], next));
    expect((await verify(rolled, users[0].userId, users[0].totp)).status).toBe(200);
    const fresh = newUserId('rotation-new');
    const freshTotp = await enrollTotp(rolled, fresh);
    // An instance that does not know the new key refuses the new secret cleanly (a 4xx, never a 5xx): why
    // the key goes to every instance before it becomes current.
    const unknownKey = await verify(before, fresh, freshTotp);
    expect(unknownKey).toMatchObject({ status: 409, body: { error: { code: 'secret_unreadable' } } });
    await before.service.stop();

    // Step 2, re-wrap while serving: the admin command runs beside live verifications.
    const admin = await rolled.token('ops-admin', ['admin']);
    const [rotation, ...during] = await Promise.all([
      rolled.request('POST', '/v1/admin/key-rotation', { token: admin }),
      verify(rolled, users[1].userId, users[1].totp),
      verify(rolled, users[2].userId, users[2].totp),
    ]);
    expect(during.map((response) => response.status)).toEqual([200, 200]);
    expect(rotation.status).toBe(200);
    expect(rotation.body).toMatchObject({ currentKeyId: next, rewrapped: 5, skipped: 0, keyIds: [old, next] });
    expect(await keyIdsInUse(new EnvelopeCipher(parseKeyRing(nextKey, next)))).toEqual(Array(6).fill(false));
    // Run again, nothing is left to do.
    expect((await rolled.request('POST', '/v1/admin/key-rotation', { token: admin })).body).toMatchObject({ rewrapped: 0 });

    // Step 3, the old key leaves the ring: secrets stored before the rotation and after it both verify.
    await rolled.service.stop();
    const after = await start(ring([nextKey], next));
    expect((await verify(after, users[3].userId, users[3].totp)).status).toBe(200);
    expect((await verify(after, users[4].userId, users[4].totp)).status).toBe(200);
    expect((await verify(after, fresh, freshTotp)).status).toBe(200);
  });

  it('the rotation command is for admins only', async () => {
    const svc = running.at(-1)!;
    for (const roles of [['user'], ['security-officer'], ['helpdesk']] as const) {
      const response = await svc.request('POST', '/v1/admin/key-rotation', { token: await svc.token('someone', [...roles]) });
      expect(response).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
    expect((await svc.request('POST', '/v1/admin/key-rotation')).status).toBe(401);
  });
});
