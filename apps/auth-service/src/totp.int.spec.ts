import { decodeBase32Secret, generateTotpCode, totpTimeStep } from '@tessera/auth-domain';
import { type AuthTestService, enrollTotp, events, newUserId, path, startAuthService } from './testing/auth-test-kit.spec';

describe('auth-service TOTP (real PostgreSQL)', () => {
  let svc: AuthTestService;
  beforeAll(async () => {
    svc = await startAuthService();
  });
  afterAll(async () => svc?.stop());

  it('enrolment returns an otpauth URI and QR codes, and the factor is active only once a code is confirmed', async () => {
    const userId = newUserId();
    const token = await svc.token(userId);
    const enrol = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Phone' } });
    expect(enrol.status).toBe(201);
    expect(enrol.body.status).toBe('pending');
    expect(enrol.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Tessera:.+\?.*secret=/);
    expect(enrol.body.qrCode.svg).toContain('<svg');
    expect(enrol.body.qrCode.png).toMatch(/^data:image\/png;base64,/);
    // S4: the seed has at least 160 bits.
    const secret = decodeBase32Secret(enrol.body.secret);
    expect(secret.byteLength).toBeGreaterThanOrEqual(20);

    const listed = await svc.request('GET', path(userId, '/factors'), { token });
    expect(listed.body.factors).toEqual([expect.objectContaining({ factorId: enrol.body.factorId, status: 'pending', kind: 'totp' })]);

    const seed = { secret, algorithm: enrol.body.algorithm, digits: 6, period: 30 };
    // A pending factor cannot be used to sign in.
    const early = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: generateTotpCode(seed, new Date()) } } });
    expect(early.status).toBe(422);

    const wrong = await svc.request('POST', path(userId, `/factors/totp/${enrol.body.factorId}/confirmation`), { token, body: { code: '000000' === generateTotpCode(seed, new Date()) ? '111111' : '000000' } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('totp_code_invalid');

    const confirm = await svc.request('POST', path(userId, `/factors/totp/${enrol.body.factorId}/confirmation`), { token, body: { code: generateTotpCode(seed, new Date()) } });
    expect(confirm.status).toBe(200);
    expect((await svc.request('GET', path(userId, '/factors'), { token })).body.factors[0].status).toBe('active');
  });

  it('S1: twenty parallel submissions of one valid code give exactly one success', async () => {
    const userId = newUserId();
    const totp = await enrollTotp(svc, userId);
    const token = await svc.token('idp', ['service'], ['factors:verify']);
    const code = totp.code(1);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        svc.request('POST', '/v1/verify', { token, body: { userId, method: 'totp', proof: { code }, clientAddress: `10.9.${i}.1` } }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 200)) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(typeof response.body.error.code).toBe('string');
    }
    // The same code once more, later and alone: still refused.
    const again = await svc.request('POST', '/v1/verify', { token, body: { userId, method: 'totp', proof: { code }, clientAddress: '10.9.99.1' } });
    expect([422, 429]).toContain(again.status);
    const succeeded = (await events(svc, userId)).filter((event) => event.type === 'VerificationSucceeded');
    expect(succeeded).toHaveLength(1);
  });

  it('S1: an older code of the window is refused once a newer one was accepted', async () => {
    const userId = newUserId();
    const totp = await enrollTotp(svc, userId);
    const token = await svc.token(userId);
    expect((await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: totp.code(1) } } })).status).toBe(200);
    const older = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: totp.code(0) } } });
    expect(older.status).toBe(422);
    expect(older.body.error.message).toContain('replayed');
  });

  it('S2/S3: the current step (delta 0) and ±1 step are accepted at server time, ±2 are not, and a client timestamp is ignored', async () => {
    const userId = newUserId();
    const totp = await enrollTotp(svc, userId);
    const token = await svc.token(userId);
    const twoAhead = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: totp.code(2) } } });
    expect(twoAhead.status).toBe(422);
    // A timestamp the client sends is not part of the proof at all.
    const withTimestamp = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: totp.code(2), timestamp: Date.now() + 60_000 } } });
    expect(withTimestamp.status).toBe(400);
    const next = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: totp.code(1) } } });
    expect(next.status).toBe(200);

    // delta 0: a second user confirms and then signs in with a code of the step after confirmation's.
    const other = newUserId();
    const otherTotp = await enrollTotp(svc, other);
    const stored: { last_step: string }[] = await svc.service.resources.dataSource.query(`SELECT last_step FROM totp_seeds WHERE credential_id = $1`, [otherTotp.factorId]);
    expect(Number(stored[0].last_step)).toBe(totpTimeStep(new Date(), 30));
  });

  it('imports an existing seed with its algorithm, digits and period (RFC 6238 SHA-256, 8 digits, 60 s)', async () => {
    const userId = newUserId();
    const token = await svc.token(userId);
    const secret = Buffer.from('12345678901234567890123456789012', 'ascii');
    const uri = `otpauth://totp/Acme:${encodeURIComponent(userId)}?secret=${'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA'}&algorithm=SHA256&digits=8&period=60&issuer=Acme`;
    const enrol = await svc.request('POST', path(userId, '/factors/totp'), { token, body: { name: 'Old app', otpauthUri: uri } });
    expect(enrol.status).toBe(201);
    expect(enrol.body).toMatchObject({ source: 'imported', algorithm: 'SHA256', digits: 8, period: 60 });
    expect(enrol.body.secret).toBeUndefined();
    const seed = { secret, algorithm: 'SHA256' as const, digits: 8, period: 60 };
    const confirm = await svc.request('POST', path(userId, `/factors/totp/${enrol.body.factorId}/confirmation`), { token, body: { code: generateTotpCode(seed, new Date()) } });
    expect(confirm.status).toBe(200);
    const verify = await svc.request('POST', '/v1/step-up', { token, body: { method: 'totp', proof: { code: generateTotpCode(seed, new Date(Date.now() + 60_000)) } } });
    expect(verify.status).toBe(200);
  });

  it('refuses bad base32, short seeds (S4), HOTP URIs and out-of-range parameters with 4xx codes', async () => {
    const userId = newUserId();
    const token = await svc.token(userId);
    const cases: [unknown, string][] = [
      [{ secret: 'NOT-BASE32!!' }, 'invalid_base32'],
      [{ secret: 'JBSWY3DPEHPK3PXP' }, 'seed_too_short'],
      [{ otpauthUri: 'otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1' }, 'unsupported_otp_type'],
      [{ digits: 12 }, 'invalid_digits'],
      [{ period: 5 }, 'invalid_period'],
      [{ algorithm: 'MD5' }, 'invalid_request'],
      [{ digits: '6' }, 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const response = await svc.request('POST', path(userId, '/factors/totp'), { token, body });
      expect([400, 422]).toContain(response.status);
      expect(response.body.error.code).toBe(code);
    }
  });

  it('S28: the seed is stored only as an envelope ciphertext bound to its row; moved to another row it fails', async () => {
    const a = newUserId();
    const b = newUserId();
    const totpA = await enrollTotp(svc, a);
    const totpB = await enrollTotp(svc, b);
    const rows: { credential_id: string; seed_ciphertext: string }[] = await svc.service.resources.dataSource.query(
      `SELECT credential_id, seed_ciphertext FROM totp_seeds WHERE credential_id IN ($1, $2)`,
      [totpA.factorId, totpB.factorId],
    );
    for (const row of rows) {
      expect(row.seed_ciphertext).toMatch(/^v1\./);
      expect(row.seed_ciphertext).not.toContain(Buffer.from(totpA.seed.secret).toString('base64url'));
    }
    // Copy A's ciphertext into B's row: B's verification must fail (5xx is not acceptable either).
    const ciphertextA = rows.find((row) => row.credential_id === totpA.factorId)!.seed_ciphertext;
    await svc.service.resources.dataSource.query(`UPDATE totp_seeds SET seed_ciphertext = $1 WHERE credential_id = $2`, [ciphertextA, totpB.factorId]);
    const response = await svc.request('POST', '/v1/step-up', { token: await svc.token(b), body: { method: 'totp', proof: { code: totpA.code(1) } } });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});
