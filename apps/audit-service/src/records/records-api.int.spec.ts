import { type AuditRecord, SECURITY_HISTORY_FIELDS, type SecurityHistoryItem, type SignedCheckpoint, verifyChain } from '@tessera/audit-domain';
import { uuidv7 } from '@tessera/util';
import { runCli } from '../../../cli/src/cli';
import { COMMANDS } from '../../../cli/src/commands';
import { ChainAppender } from '../chain/chain-appender.service';
import { AUDIT_SETTINGS } from '../audit.tokens';
import type { AuditSettings } from '../settings/audit-settings';
import type { AuditRecordView } from '../records/record.view';
import { type AuditTestBed, type GrpcHistoryAnswer, type GrpcListRecordsAnswer, appendSynthetic, auditGrpcClient, startAuditTestBed } from '../test/audit-test-bed.kit.spec';
import { STAFF, syntheticEvent, syntheticUser } from '../test/synthetic-events';

/**
 * The auditor's queries (REST and gRPC), the user's security history, exports and reports
 * (issue 7.3, 7.4), with every bad parameter and wrong role answered by a clear 4xx (R7).
 */
const COUNT = 200;
const OPTIONS = { users: 8 };
const ev = (n: number) => syntheticEvent(n, OPTIONS);
const USER = syntheticUser(13, OPTIONS.users);
const OTHER = 'user-with-no-records';
const eventsOf = (predicate: (n: number) => boolean) => Array.from({ length: COUNT }, (_, i) => i + 1).filter(predicate).map((n) => ev(n).event);
const isAbout = (userId: string) => (n: number) => ev(n).event.data['userId'] === userId;

describe('audit queries, security history, exports and reports', () => {
  let bed: AuditTestBed;
  let auditor: string;
  let grpcClient: ReturnType<typeof auditGrpcClient>;

  beforeAll(async () => {
    bed = await startAuditTestBed({ AUDIT_CHECKPOINT_EVERY: '50' });
    auditor = await bed.audit.token('auditor-1', ['auditor']);
    await appendSynthetic(bed.audit, 1, COUNT, OPTIONS);
    grpcClient = auditGrpcClient(bed.audit);
  });

  afterAll(async () => {
    grpcClient?.close();
    await bed?.stop();
  });

  const get = (path: string, token = auditor) => bed.audit.request('GET', path, { token });
  async function pages<T>(path: string, field: 'records' | 'items', token: string): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const answer = await get(`${path}${path.includes('?') ? '&' : '?'}limit=7${cursor ? `&cursor=${cursor}` : ''}`, token);
      expect(answer.status).toBe(200);
      out.push(...(answer.body[field] as T[]));
      cursor = answer.body.nextCursor;
    } while (cursor !== null);
    return out;
  }
  const allPages = (path: string) => pages<AuditRecordView>(path, 'records', auditor);
  const historyPages = (path: string, token: string) => pages<SecurityHistoryItem>(path, 'items', token);
  const grpc = <T>(method: 'ListRecords' | 'GetSecurityHistory', request: object, token = auditor) => grpcClient.call<T>(method, request, token);

  describe('records (auditor)', () => {
    it('by correlation id: the one record of that request, with personal fields opened for the auditor', async () => {
      const answer = await get('/v1/audit/records?correlationId=corr-15');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ records: [expect.any(Object)], nextCursor: null });
      const approval = ev(15).event;
      expect(answer.body.records[0]).toMatchObject({
        eventId: approval.eventId,
        eventType: 'RecoveryApproved',
        actor: { kind: 'security-officer', id: STAFF.officerA.id },
        subject: { userId: approval.data['userId'] },
        reason: `Verified ${approval.data['userId']} on a video call`,
        details: { recoveryId: 'r-14', approverId: STAFF.officerA.id, quorumReached: false },
        personal: { status: 'available' },
      });
    });

    it('by user, page after page in position order, every record about them and nothing else', async () => {
      const records = await allPages(`/v1/audit/records?userId=${USER}`);
      expect(records.map((r) => r.eventId)).toEqual(eventsOf(isAbout(USER)).map((e) => e.eventId));
      expect(records.every((r) => r.subject?.userId === USER)).toBe(true);
      expect(records.map((r) => r.position)).toEqual([...records.map((r) => r.position)].sort((a, b) => a - b));
    });

    it('by actor: staff in clear, and a user acting on their own account (sealed in the record)', async () => {
      const officer = await allPages(`/v1/audit/records?actorId=${STAFF.officerA.id}`);
      expect(officer.map((r) => r.eventId)).toEqual(eventsOf((n) => ev(n).event.actor.id === STAFF.officerA.id).map((e) => e.eventId));
      const self = await allPages(`/v1/audit/records?actorId=${USER}`);
      expect(self.map((r) => r.eventId)).toEqual(eventsOf((n) => ev(n).event.actor.id === USER).map((e) => e.eventId));
      expect(self.every((r) => r.actor.id === USER)).toBe(true);
    });

    it('by event type and time range (occurredAt, from inclusive, to exclusive), newest first', async () => {
      const from = ev(50).event.occurredAt;
      const to = ev(150).event.occurredAt;
      const records = await allPages(`/v1/audit/records?eventType=VerificationFailed&from=${from}&to=${to}&order=desc`);
      const expected = eventsOf((n) => n >= 50 && n < 150 && ev(n).event.type === 'VerificationFailed').map((e) => e.eventId);
      expect(records.map((r) => r.eventId)).toEqual(expected.reverse());
      expect(await get(`/v1/audit/records?category=verification&outcome=failure&limit=500`)).toMatchObject({ status: 200, body: { records: expect.arrayContaining([]) } });
    });

    it('a user with no records, or one never seen, gives an empty page rather than an error', async () => {
      expect(await get('/v1/audit/records?userId=nobody-here')).toMatchObject({ status: 200, body: { records: [], nextCursor: null } });
    });

    it.each([
      ['limit=0', 'invalid_request'],
      ['limit=501', 'invalid_request'],
      ['limit=ten', 'invalid_request'],
      ['eventType=recovery_approved', 'invalid_request'],
      ['category=everything', 'invalid_request'],
      ['from=yesterday', 'invalid_request'],
      ['from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z', 'invalid_request'],
      ['userId=two%20words', 'invalid_request'],
      ['userId=a&userId=b', 'invalid_request'],
      ['sort=position', 'invalid_request'],
      ['cursor=not-a-cursor!', 'invalid_cursor'],
      [`cursor=${Buffer.from('a:12').toString('base64url')}&order=desc`, 'invalid_cursor'],
      [`cursor=${Buffer.from('a:-1').toString('base64url')}`, 'invalid_cursor'],
    ])('R7: %s is refused with 400 %s', async (query, code) => {
      expect(await get(`/v1/audit/records?${query}`)).toMatchObject({ status: 400, body: { error: { code } } });
    });

    it('R7: only auditors may query the log; a missing or forged token is 401', async () => {
      for (const roles of [['user'], ['helpdesk'], ['security-officer'], ['admin']] as const) {
        expect(await get('/v1/audit/records', await bed.audit.token('someone', [...roles]))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      }
      expect(await bed.audit.request('GET', '/v1/audit/records')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
      expect(await get('/v1/audit/records', `${auditor.slice(0, -4)}AAAA`)).toMatchObject({ status: 401 });
    });

    it('tessera audit records queries the same API, and refuses a stray argument as a usage error', async () => {
      const run = async (argv: string[]) => {
        let stdout = '';
        let stderr = '';
        const code = await runCli(argv, COMMANDS, { env: { TESSERA_AUDIT_URL: bed.audit.url, TESSERA_TOKEN: auditor }, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
        return { code, stdout, stderr };
      };
      const json = await run(['audit', 'records', '--correlation-id', 'corr-15', '--json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ records: [{ eventType: 'RecoveryApproved', correlationId: 'corr-15' }], nextCursor: null });
      const human = await run(['audit', 'records', '--user-id', USER, '--limit', '2']);
      expect(human.code).toBe(0);
      expect(human.stdout.trim().split('\n')).toHaveLength(3);
      expect(human.stdout).toContain('more: --cursor ');
      expect(await run(['audit', 'records', '--limit', '0'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: invalid_request: /) });
      expect(await run(['audit', 'records', 'stray'])).toMatchObject({ code: 2 });
    });

    it('over gRPC: ListRecords with the same filters, INVALID_ARGUMENT and PERMISSION_DENIED with machine-readable codes', async () => {
      const answer = await grpc<GrpcListRecordsAnswer>('ListRecords', { correlation_id: 'corr-15' });
      expect(answer.records).toHaveLength(1);
      expect(answer).toMatchObject({ next_cursor: '', records: [{ event_type: 'RecoveryApproved', actor_id: { value: STAFF.officerA.id, erased: false } }] });
      expect(JSON.parse(answer.records[0].details_json)).toMatchObject({ recoveryId: 'r-14' });
      const paged = await grpc<GrpcListRecordsAnswer>('ListRecords', { user_id: USER, limit: 3 });
      expect(paged.records).toHaveLength(3);
      expect(paged.next_cursor).not.toBe('');
      await expect(grpc('ListRecords', { limit: 501 })).rejects.toMatchObject({ code: 3, details: expect.stringContaining('invalid_request') });
      await expect(grpc('ListRecords', {}, await bed.audit.token('u', ['user']))).rejects.toMatchObject({ code: 7 });
    });
  });

  describe("the user's own security history", () => {
    // What the user reads for each kind of event in the stream; VerificationSucceeded is not shown.
    const TITLES: Record<string, string> = {
      WebAuthnCredentialRegistered: 'New security key added',
      VerificationFailed: 'Failed sign-in attempt',
      RecoveryRequested: 'Recovery requested by helpdesk',
      RecoveryApproved: 'Recovery approved by the security team',
      DeviceReportedLost: 'Device reported lost',
      CredentialsFrozen: 'Factor changes locked during an incident by the security team',
      DeviceRenamed: 'Device renamed',
    };

    it('newest first, in words, with only the fields safe to show the user (no staff ids, reasons, tickets or addresses)', async () => {
      const items = await historyPages(`/v1/users/${USER}/security-history`, await bed.audit.token(USER));
      const expected = eventsOf((n) => isAbout(USER)(n) && ev(n).event.type in TITLES).reverse();
      expect(expected.length).toBeGreaterThan(10);
      expect(items.map((item) => [item.eventId, item.title])).toEqual(expected.map((e) => [e.eventId, TITLES[e.type]]));
      for (const item of items) expect(SECURITY_HISTORY_FIELDS).toEqual(expect.arrayContaining(Object.keys(item)));
      const text = JSON.stringify(items);
      for (const leak of [STAFF.officerA.id, STAFF.helpdesk.id, 'HD-', 'video call', 'SIM swap']) expect(text).not.toContain(leak);
      expect(items.find((item) => item.title === 'New security key added')).toMatchObject({ by: 'you', deviceName: expect.stringMatching(/^Key \d+$/) });
    });

    it("R7: only the user themself: another user, staff and auditors are refused; bad paging is 400", async () => {
      const path = `/v1/users/${USER}/security-history`;
      expect(await get(path, await bed.audit.token(OTHER))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(await get(path, auditor)).toMatchObject({ status: 403 });
      expect(await get(path, await bed.audit.token('hd', ['helpdesk']))).toMatchObject({ status: 403 });
      expect(await get(`${path}?limit=0`, await bed.audit.token(USER))).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      expect(await get(`${path}?cursor=${Buffer.from('a:5').toString('base64url')}`, await bed.audit.token(USER))).toMatchObject({ status: 400, body: { error: { code: 'invalid_cursor' } } });
      expect(await get(`/v1/users/${'x'.repeat(201)}/security-history`, await bed.audit.token(USER))).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
      expect(await get('/v1/users/nobody-here/security-history', await bed.audit.token('nobody-here'))).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
    });

    it('over gRPC: GetSecurityHistory for oneself, PERMISSION_DENIED for anyone else', async () => {
      const answer = await grpc<GrpcHistoryAnswer>('GetSecurityHistory', { user_id: USER, limit: 2 }, await bed.audit.token(USER));
      expect(answer.items).toHaveLength(2);
      expect(answer.items[0]).toMatchObject({ title: expect.any(String), by: expect.any(String) });
      await expect(grpc('GetSecurityHistory', { user_id: USER }, await bed.audit.token(OTHER))).rejects.toMatchObject({ code: 7 });
      await expect(grpc('GetSecurityHistory', { user_id: '' }, await bed.audit.token(USER))).rejects.toMatchObject({ code: 3 });
    });
  });

  describe('exports and reports', () => {
    const from = ev(1).event.occurredAt;
    const to = new Date(Date.parse(ev(COUNT).event.occurredAt) + 1000).toISOString();

    it('an NDJSON export of a period holds the records of that period, stored and readable', async () => {
      const periodFrom = ev(60).event.occurredAt;
      const periodTo = ev(70).event.occurredAt;
      const exported = await get(`/v1/audit/exports/records?from=${periodFrom}&to=${periodTo}`);
      expect(exported.status).toBe(200);
      const lines = (exported.body as string).trim().split('\n').map((line) => JSON.parse(line));
      expect(lines.map((line) => line.view.eventId)).toEqual(eventsOf((n) => n >= 60 && n < 70).map((e) => e.eventId));
      expect(lines[0].record).toMatchObject({ position: 60, hash: lines[0].view.hash, personal: { alg: 'A256GCM' } });
      const empty = await get(`/v1/audit/exports/records?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z`);
      expect(empty.status).toBe(200);
      expect(empty.body ?? '').toBe('');
    });

    it('an NDJSON export of positions from 1 verifies away from the service with the checkpoints export and the public key', async () => {
      const exported = await get(`/v1/audit/exports/records?fromPosition=1&toPosition=${COUNT}`);
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
      const lines = (exported.body as string).trim().split('\n').map((line) => JSON.parse(line));
      expect(lines).toHaveLength(COUNT);
      expect(lines[0].view).toMatchObject({ position: 1, eventId: ev(1).event.eventId });
      const checkpoints = await get('/v1/audit/exports/checkpoints');
      const signed: SignedCheckpoint[] = (checkpoints.body as string).trim().split('\n').map((line) => JSON.parse(line));
      expect(signed.map((c) => c.toPosition)).toEqual([50, 100, 150, 200]);
      const { publicKeys } = bed.audit.service.app.get<AuditSettings>(AUDIT_SETTINGS);
      const records: AuditRecord[] = lines.map((line) => line.record);
      expect(verifyChain(records, signed, publicKeys)).toMatchObject({ ok: true, recordCount: COUNT, checkpointsVerified: 4 });
      records[99] = { ...records[99], ticket: 'HD-forged' };
      expect(verifyChain(records, signed, publicKeys)).toMatchObject({ ok: false, failure: { position: 100, reason: 'hash_mismatch' } });
    });

    it('a CSV export quotes every field and defuses spreadsheet formulas in text people wrote (OWASP CSV injection)', async () => {
      const approval = { ...ev(15), event: { ...ev(15).event, eventId: uuidv7(), correlationId: 'corr-formula', data: { ...ev(15).event.data, recoveryId: 'r-formula', reason: '=HYPERLINK("http://evil.example","click")' } } };
      await bed.audit.service.resources.dataSource.transaction((manager) => bed.audit.service.app.get(ChainAppender).append(manager, [approval]));
      const exported = await get(`/v1/audit/exports/records?from=${from}&to=${to}&format=csv`);
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toContain('text/csv');
      const lines = (exported.body as string).split('\r\n').filter(Boolean);
      expect(lines[0]).toBe('"position","occurredAt","recordedAt","eventType","category","outcome","source","actorKind","actorId","subjectRef","subjectUserId","correlationId","causationId","ticket","reasonCode","reason","details","personal","eventId","hash"');
      const formula = lines.find((line) => line.includes('corr-formula'));
      expect(formula).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    });

    it('reports: recoveries with approvers and durations, administrative actions, factor changes, spikes of failed verifications', async () => {
      const recoveries = await get(`/v1/audit/reports/recoveries?from=${from}&to=${to}`);
      expect(recoveries.status).toBe(200);
      expect(recoveries.body.rows.find((row: { recoveryId: string }) => row.recoveryId === 'r-14')).toMatchObject({
        status: 'open',
        requestedBy: { kind: 'helpdesk', id: STAFF.helpdesk.id },
        ticket: 'HD-14',
        requiredApprovals: 2,
        approvals: [{ approver: { kind: 'security-officer', id: STAFF.officerA.id } }],
        durations: { toFirstApprovalMs: 1000 },
      });
      const admin = await get(`/v1/audit/reports/admin-actions?from=${from}&to=${to}`);
      expect(admin.body.rows.length).toBe(eventsOf((n) => ['helpdesk', 'security-officer'].includes(ev(n).event.actor.kind) || ev(n).event.type === 'RecoveryDrillFailed').length + 1);
      const factors = await get(`/v1/audit/reports/factor-changes?from=${from}&to=${to}&format=csv`);
      expect(factors.headers.get('content-type')).toContain('text/csv');
      expect((factors.body as string).split('\r\n')[0]).toContain('"factorKind"');
      const spikes = await get(`/v1/audit/reports/failed-verification-spikes?from=${from}&to=${to}&windowMinutes=60&threshold=3`);
      expect(spikes.status).toBe(200);
      expect(spikes.body.rows.length).toBeGreaterThan(0);
      expect(spikes.body.rows[0]).toMatchObject({ key: { kind: 'subject' }, peakCount: expect.any(Number) });
    });

    it.each([
      ['/v1/audit/exports/records', 400],
      [`/v1/audit/exports/records?from=2024-01-01T00:00:00Z&to=2025-06-01T00:00:00Z`, 400],
      [`/v1/audit/exports/records?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&format=xml`, 400],
      [`/v1/audit/exports/records?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&fromPosition=1&toPosition=5`, 400],
      ['/v1/audit/exports/records?fromPosition=9&toPosition=5', 400],
      ['/v1/audit/exports/records?fromPosition=0&toPosition=5', 400],
      [`/v1/audit/reports/everything?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z`, 400],
      [`/v1/audit/reports/failed-verification-spikes?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&threshold=1`, 400],
      ['/v1/audit/exports/data-subject', 400],
    ])('R7: %s is refused with %i', async (path, status) => {
      expect(await get(path)).toMatchObject({ status, body: { error: { code: 'invalid_request' } } });
    });

    it('every route is documented in the OpenAPI document', async () => {
      const { body } = await bed.audit.request('GET', '/docs/openapi.json');
      expect(Object.keys(body.paths).sort()).toEqual(
        expect.arrayContaining([
          '/v1/audit/records',
          '/v1/audit/exports/records',
          '/v1/audit/exports/data-subject',
          '/v1/audit/exports/checkpoints',
          '/v1/audit/reports/{kind}',
          '/v1/audit/verify',
          '/v1/audit/erasures',
          '/v1/audit/retention',
          '/v1/audit/retention/runs',
          '/v1/users/{userId}/security-history',
        ]),
      );
      expect(body.paths['/v1/audit/records'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['userId', 'actorId', 'eventType', 'correlationId', 'from', 'to', 'cursor', 'limit']));
    });

    it('R7: exports and reports are for auditors only', async () => {
      const user = await bed.audit.token(USER);
      for (const path of [`/v1/audit/exports/records?from=${from}&to=${to}`, `/v1/audit/reports/recoveries?from=${from}&to=${to}`, '/v1/audit/exports/checkpoints', `/v1/audit/exports/data-subject?userId=${USER}`]) {
        expect(await get(path, user)).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      }
    });
  });
});
