import { type AuthTestService, enrollTotp, events, newUserId, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';

async function metric(svc: AuthTestService, name: string): Promise<number> {
  const text = (await svc.request('GET', '/metrics')).body as string;
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) || row.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('auth-service backup codes (real PostgreSQL)', () => {
  let svc: AuthTestService;
  beforeAll(async () => {
    svc = await startAuthService();
  });
  afterAll(async () => svc?.stop());

  async function userWithCodes() {
    const userId = newUserId();
    const totp = await enrollTotp(svc, userId);
    const stepUp = await stepUpWithTotp(svc, userId, totp);
    const generated = await svc.request('POST', path(userId, '/backup-codes'), { token: await svc.token(userId), headers: { 'x-step-up-assertion': stepUp } });
    expect(generated.status).toBe(201);
    return { userId, totp, codes: generated.body.codes as string[], factorId: generated.body.factorId as string };
  }

  it('S10/S11: ten codes of 80 secret bits, stored only as salted hashes with per-row KDF parameters', async () => {
    const { codes, factorId } = await userWithCodes();
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    const rows: { code_index: string; salt: Buffer; hash: Buffer; kdf: { algorithm: string; cost: number } }[] = await svc.service.resources.dataSource.query(
      `SELECT code_index, salt, hash, kdf FROM backup_codes WHERE credential_id = $1`,
      [factorId],
    );
    expect(rows).toHaveLength(10);
    const dump = JSON.stringify(rows) + JSON.stringify(await svc.service.resources.dataSource.query(`SELECT data FROM events`));
    for (const code of codes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace(/-/g, '').slice(4));
    }
    for (const row of rows) {
      expect(row.salt.byteLength).toBeGreaterThanOrEqual(4);
      expect(row.kdf).toMatchObject({ algorithm: 'scrypt' });
    }
  });

  it('S11: each attempt costs exactly one KDF, whether the index exists, the code is used or wrong', async () => {
    const { userId, codes } = await userWithCodes();
    const token = await svc.token(userId);
    const attemptsBefore = await metric(svc, 'auth_backup_code_attempts_total');
    const kdfBefore = await metric(svc, 'auth_backup_code_kdf_total');
    const wrongSecret = codes[0].slice(0, 5) + (codes[0][5] === '0' ? '1' : '0') + codes[0].slice(6);
    const tries = [codes[0], codes[0], wrongSecret, 'ZZZZ-0000-0000-0000-0000'];
    for (const code of tries) await svc.request('POST', '/v1/step-up', { token, body: { method: 'backup_code', proof: { code } } });
    expect((await metric(svc, 'auth_backup_code_attempts_total')) - attemptsBefore).toBe(tries.length);
    expect((await metric(svc, 'auth_backup_code_kdf_total')) - kdfBefore).toBe(tries.length);
  });

  it('S12: parallel redemption of one code gives exactly one success', async () => {
    const { userId, codes } = await userWithCodes();
    const token = await svc.token('idp', ['service'], ['factors:verify']);
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => svc.request('POST', '/v1/verify', { token, body: { userId, method: 'backup_code', proof: { code: codes[3] }, clientAddress: `10.8.${i}.1` } })),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    for (const response of responses) expect(response.status).toBeLessThan(500);
    expect((await events(svc, userId)).filter((event) => event.type === 'BackupCodeUsed')).toHaveLength(1);
  });

  it('S13: a used code is invalid, the user is told (BackupCodeUsed) and warned when few remain (BackupCodesLow)', async () => {
    const { userId, codes } = await userWithCodes();
    const token = await svc.token(userId);
    for (let i = 0; i < 7; i++) {
      const response = await svc.request('POST', '/v1/step-up', { token, body: { method: 'backup_code', proof: { code: codes[i].toLowerCase() } } });
      expect(response.status).toBe(200);
      expect(response.body.remainingBackupCodes).toBe(9 - i);
    }
    const reused = await svc.request('POST', '/v1/step-up', { token, body: { method: 'backup_code', proof: { code: codes[0] } } });
    expect(reused.status).toBe(422);
    const types = (await events(svc, userId)).map((event) => event.type);
    expect(types.filter((type) => type === 'BackupCodeUsed')).toHaveLength(7);
    expect(types).toContain('BackupCodesLow');
    const status = await svc.request('GET', path(userId, '/backup-codes'), { token });
    expect(status.body).toMatchObject({ total: 10, remaining: 3 });
  });

  it('regenerating voids the old set at once', async () => {
    const { userId, codes } = await userWithCodes();
    const token = await svc.token(userId);
    // The TOTP step is spent; a backup code is an AAL2 step-up too.
    const stepUp = (await svc.request('POST', '/v1/step-up', { token, body: { method: 'backup_code', proof: { code: codes[9] } } })).body.stepUpAssertion;
    const again = await svc.request('POST', path(userId, '/backup-codes'), { token, headers: { 'x-step-up-assertion': stepUp } });
    expect(again.status).toBe(201);
    expect(again.body.replacedFactorId).not.toBeNull();
    expect((await svc.request('POST', '/v1/step-up', { token, body: { method: 'backup_code', proof: { code: codes[1] } } })).status).toBe(422);
    expect((await svc.request('POST', '/v1/step-up', { token, body: { method: 'backup_code', proof: { code: again.body.codes[1] } } })).status).toBe(200);
  });

  it('S14: codes are shown only inside a recent AAL2 step-up', async () => {
    const userId = newUserId();
    await enrollTotp(svc, userId);
    const withoutStepUp = await svc.request('POST', path(userId, '/backup-codes'), { token: await svc.token(userId) });
    expect(withoutStepUp.status).toBe(403);
    expect(withoutStepUp.body.error.code).toBe('step_up_insufficient');
    // A first factor-less account cannot reach AAL2 at all: codes need a real factor first.
    const fresh = newUserId();
    const none = await svc.request('POST', path(fresh, '/backup-codes'), { token: await svc.token(fresh) });
    expect(none.status).toBe(403);
    expect(JSON.stringify(none.body)).not.toMatch(/codes/);
  });
});
