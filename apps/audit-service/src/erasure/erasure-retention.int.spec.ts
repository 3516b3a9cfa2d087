import { ManualClock } from '@tessera/util';
import type { Client } from 'pg';
import type { AuditRecordView } from '../records/record.view';
import { type AuditTestBed, appendSynthetic, ownerConnection, startAuditTestBed } from '../test/audit-test-bed.kit.spec';
import { syntheticEvent, syntheticUser } from '../test/synthetic-events';

/**
 * Erasure by crypto-shredding and retention (issue 7.4, 7.5): personal data leaves the log and old
 * records go, and the chain still verifies.
 */
const DAY_MS = 86_400_000;
const OPTIONS = { users: 8 };
const ev = (n: number) => syntheticEvent(n, OPTIONS);
const OLD = 100;
const RECENT = 20;

describe('erasure and retention keep the chain verifiable', () => {
  const clock = new ManualClock(new Date(Date.now() - 400 * DAY_MS));
  let bed: AuditTestBed;
  let owner: Client;
  let admin: string;
  let auditor: string;

  beforeAll(async () => {
    bed = await startAuditTestBed({ AUDIT_CHECKPOINT_EVERY: '10', AUDIT_RETENTION_MIN_DAYS: '7' }, clock);
    admin = await bed.audit.token('admin-1', ['admin']);
    auditor = await bed.audit.token('auditor-1', ['auditor']);
    // 100 records written 400 days ago, then 20 today.
    await appendSynthetic(bed.audit, 1, OLD, OPTIONS);
    clock.set(new Date());
    await appendSynthetic(bed.audit, OLD + 1, RECENT, OPTIONS);
    owner = await ownerConnection(bed.audit);
  });

  afterAll(async () => {
    await owner?.end();
    await bed?.stop();
  });

  const verify = async () => (await bed.audit.request('POST', '/v1/audit/verify', { token: auditor })).body;
  const records = async (query: string): Promise<AuditRecordView[]> => (await bed.audit.request('GET', `/v1/audit/records?limit=500&${query}`, { token: auditor })).body.records;

  describe('a data-subject export', () => {
    it("holds every record about the person, and the export itself is recorded (who pulled whose records)", async () => {
      const userId = syntheticUser(3, OPTIONS.users);
      const answer = await bed.audit.request('GET', `/v1/audit/exports/data-subject?userId=${userId}`, { token: auditor });
      expect(answer.status).toBe(200);
      const lines = (answer.body as string).trim().split('\n').map((line) => JSON.parse(line));
      const expected = Array.from({ length: OLD + RECENT }, (_, i) => ev(i + 1).event).filter((event) => event.data['userId'] === userId || event.actor.id === userId);
      expect(lines.map((line) => line.view.eventId)).toEqual(expected.map((event) => event.eventId));
      const [logged] = await records('eventType=AuditDataSubjectExported');
      expect(logged).toMatchObject({ source: 'tessera.audit.v1', category: 'admin', actor: { kind: 'auditor', id: 'auditor-1' }, details: { subjectRef: lines[0].view.subject.ref, exportKind: 'data-subject-ndjson' } });
    });
  });

  describe('erasure (crypto-shredding)', () => {
    const userId = syntheticUser(5, OPTIONS.users);

    it("R7: only an administrator may erase, with a ticket; the body is validated", async () => {
      const body = { userId, ticket: 'DPO-17' };
      expect(await bed.audit.request('POST', '/v1/audit/erasures', { token: auditor, body })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(await bed.audit.request('POST', '/v1/audit/erasures', { token: await bed.audit.token(userId), body })).toMatchObject({ status: 403 });
      expect(await bed.audit.request('POST', '/v1/audit/erasures', { token: admin, body: { userId } })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      expect(await bed.audit.request('POST', '/v1/audit/erasures', { token: admin, body: { ...body, extra: true } })).toMatchObject({ status: 400 });
      expect(await bed.audit.request('POST', '/v1/audit/erasures', { token: admin, body: { ...body, reason: 'x'.repeat(1001) } })).toMatchObject({ status: 400 });
      expect(await bed.audit.request('POST', '/v1/audit/erasures', { token: admin, rawBody: JSON.stringify({ ...body, reason: 'y'.repeat(70_000) }) })).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
      expect((await records(`userId=${userId}`)).length).toBeGreaterThan(5);
    });

    it("destroys the person's key: their fields read erased, nothing links them to their records, the chain still verifies", async () => {
      const before = await records(`userId=${userId}`);
      const headers = { 'idempotency-key': 'erase-user-0005' };
      const answer = await bed.audit.request('POST', '/v1/audit/erasures', { token: admin, body: { userId, ticket: 'DPO-17', reason: 'GDPR Art. 17 request' }, headers });
      expect(answer).toMatchObject({ status: 201, body: { erased: true, subjectRef: before[0].subject?.ref, destroyedAt: expect.any(String) } });
      expect(JSON.stringify(answer.body)).not.toContain(userId);
      // A retry with the same key gets the same answer and erases (and records) nothing more.
      const retry = await bed.audit.request('POST', '/v1/audit/erasures', { token: admin, body: { userId, ticket: 'DPO-17', reason: 'GDPR Art. 17 request' }, headers });
      expect(retry).toMatchObject({ status: 201, body: answer.body });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');

      expect(await records(`userId=${userId}`)).toEqual([]);
      const after = (await records('')).filter((record) => record.subject?.ref === before[0].subject?.ref);
      expect(after.map((record) => record.eventId)).toEqual(before.map((record) => record.eventId));
      for (const record of after) {
        expect(record.subject?.userId).toEqual({ erased: true });
        expect(record.personal.status).toBe('erased');
      }
      expect(after.find((record) => record.eventType === 'RecoveryApproved')).toMatchObject({ reason: { erased: true }, actor: { kind: 'security-officer', id: 'staff-officer-2' } });
      expect((await bed.audit.request('GET', `/v1/users/${userId}/security-history`, { token: await bed.audit.token(userId) })).body.items).toEqual([]);

      const erasures = await records('eventType=AuditSubjectErased');
      expect(erasures).toHaveLength(1);
      expect(erasures[0]).toMatchObject({ actor: { kind: 'admin', id: 'admin-1' }, ticket: 'DPO-17', details: { erasedSubjectRef: before[0].subject?.ref }, reason: 'GDPR Art. 17 request' });
      // Nothing in the log or the key store names the person any more.
      const dump = await owner.query(`SELECT (SELECT string_agg(r::text, '') FROM audit_records r) || (SELECT string_agg(k::text, '') FROM audit_data_keys k) AS text`);
      expect(dump.rows[0].text).not.toContain(`${userId}"`);
      expect(dump.rows[0].text).not.toContain(`${userId},`);
      expect(await verify()).toMatchObject({ ok: true, recordCount: OLD + RECENT + 2 });
    });

    it('a destroyed key cannot be brought back, even by the application itself', async () => {
      await expect(bed.audit.service.resources.dataSource.query(`UPDATE audit_data_keys SET destroyed_at = NULL, person_id = 'someone', wrapped_key = 'v1.x' WHERE destroyed_at IS NOT NULL`)).rejects.toThrow(/rewrapped or destroyed/);
    });

    it('erasing someone the log holds nothing of answers erased: false, and is recorded too', async () => {
      const answer = await bed.audit.request('POST', '/v1/audit/erasures', { token: admin, body: { userId: 'never-seen', ticket: 'DPO-18' } });
      expect(answer).toMatchObject({ status: 201, body: { erased: false, subjectRef: null } });
      expect(await records('eventType=AuditSubjectErased')).toHaveLength(2);
    });
  });

  describe('retention', () => {
    it('R7: only an administrator changes retention, never below the configured minimum', async () => {
      expect(await bed.audit.request('GET', '/v1/audit/retention', { token: auditor })).toMatchObject({ status: 200, body: { retentionDays: null, policySource: 'configuration', minimumDays: 7, deletedThroughPosition: 0 } });
      expect(await bed.audit.request('GET', '/v1/audit/retention', { token: await bed.audit.token('u1') })).toMatchObject({ status: 403 });
      expect(await bed.audit.request('PUT', '/v1/audit/retention', { token: auditor, body: { retentionDays: 30, ticket: 'CHG-1' } })).toMatchObject({ status: 403 });
      expect(await bed.audit.request('PUT', '/v1/audit/retention', { token: admin, body: { retentionDays: 3, ticket: 'CHG-1' } })).toMatchObject({ status: 422, body: { error: { code: 'retention_below_minimum' } } });
      expect(await bed.audit.request('PUT', '/v1/audit/retention', { token: admin, body: { retentionDays: '30', ticket: 'CHG-1' } })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      expect(await bed.audit.request('POST', '/v1/audit/retention/runs', { token: auditor })).toMatchObject({ status: 403 });
      expect(await bed.audit.request('POST', '/v1/audit/retention/runs', { token: admin })).toMatchObject({ status: 200, body: { deletedThroughPosition: null, recordsDeleted: 0 } });
    });

    it('refuses to delete records that do not verify: tampered evidence is kept', async () => {
      expect(await bed.audit.request('PUT', '/v1/audit/retention', { token: admin, body: { retentionDays: 30, ticket: 'CHG-2', reason: 'policy 2025' } })).toMatchObject({ status: 200, body: { retentionDays: 30, policySource: 'api' } });
      const [{ ticket }] = (await owner.query(`SELECT ticket FROM audit_records WHERE position = 44`)).rows;
      await owner.query(`ALTER TABLE audit_records DISABLE TRIGGER USER; UPDATE audit_records SET ticket = 'HD-forged' WHERE position = 44; ALTER TABLE audit_records ENABLE TRIGGER USER`);
      try {
        expect(await bed.audit.request('POST', '/v1/audit/retention/runs', { token: admin })).toMatchObject({ status: 409, body: { error: { code: 'chain_invalid' } } });
        expect((await owner.query(`SELECT count(*)::int AS n FROM audit_records`)).rows[0].n).toBe(OLD + RECENT + 4);
      } finally {
        await owner.query(`ALTER TABLE audit_records DISABLE TRIGGER USER; UPDATE audit_records SET ticket = $1 WHERE position = 44; ALTER TABLE audit_records ENABLE TRIGGER USER`.replace('$1', ticket === null ? 'NULL' : `'${ticket}'`));
      }
    });

    it('deletes the old prefix up to a signed checkpoint; what remains verifies from that anchor, and a deletion beyond it is caught', async () => {
      const run = await bed.audit.request('POST', '/v1/audit/retention/runs', { token: admin });
      expect(run).toMatchObject({ status: 200, body: { deletedThroughPosition: OLD, recordsDeleted: OLD } });
      expect(await verify()).toMatchObject({ ok: true, firstPosition: OLD + 1, anchor: { toPosition: OLD }, retentionDeletedThrough: OLD });
      expect((await records('order=asc'))[0].position).toBe(OLD + 1);
      const [applied] = await records('eventType=AuditRetentionApplied');
      expect(applied).toMatchObject({ actor: { kind: 'admin', id: 'admin-1' }, details: { deleteThroughPosition: OLD, anchorPosition: OLD, retentionDays: 30 } });
      // Nothing more is due, and the application cannot delete past the recorded cut.
      expect(await bed.audit.request('POST', '/v1/audit/retention/runs', { token: admin })).toMatchObject({ status: 200, body: { deletedThroughPosition: null } });
      await expect(bed.audit.service.resources.dataSource.query(`DELETE FROM audit_records WHERE position = ${OLD + 1}`)).rejects.toThrow(/append-only/);
      await expect(bed.audit.service.resources.dataSource.query(`UPDATE audit_retention_state SET deleted_through = 90`)).rejects.toThrow(/never moves backwards/);

      const kept = (await owner.query(`SELECT * FROM audit_records WHERE position = ${OLD + 1}`)).rows[0];
      await owner.query(`ALTER TABLE audit_records DISABLE TRIGGER USER; DELETE FROM audit_records WHERE position = ${OLD + 1}; ALTER TABLE audit_records ENABLE TRIGGER USER`);
      try {
        expect(await verify()).toMatchObject({ ok: false, failure: { position: OLD + 1, reason: 'position_gap' } });
      } finally {
        const columns = Object.keys(kept);
        await owner.query(
          `ALTER TABLE audit_records DISABLE TRIGGER USER; INSERT INTO audit_records (${columns.join(', ')}) SELECT * FROM json_populate_record(NULL::audit_records, '${JSON.stringify(kept).replaceAll("'", "''")}'); ALTER TABLE audit_records ENABLE TRIGGER USER`,
        );
      }
      expect(await verify()).toMatchObject({ ok: true, firstPosition: OLD + 1 });
      expect(await bed.audit.request('GET', '/v1/audit/retention', { token: admin })).toMatchObject({ status: 200, body: { retentionDays: 30, deletedThroughPosition: OLD } });
    });
  });
});
