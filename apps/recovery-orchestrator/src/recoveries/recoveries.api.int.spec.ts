import { createServer, type Server } from 'node:http';
import { type ChannelCredentials, credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from '@tessera/contracts';
import { randomUUID } from 'node:crypto';
import { type TestService, startTestService, uniqueName } from '@tessera/testing';
import { recoveryWorkflowId, SEARCH_ATTRIBUTES } from '@tessera/recovery-workflows';
import { Client, Connection } from '@temporalio/client';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../service';
import { startFakeAuthServer, type FakeAuthServer } from '../testing/fake-auth-grpc.server';
import { until } from '../testing/workflow-env';
import { temporalDataConverter } from '../temporal/payload-codec';
import { CancelLinks } from './cancel-links';

let svc: TestService<typeof recoveryOrchestratorConfigSchema>;
let auth: FakeAuthServer;
let pager: Server;
const pages: string[] = [];
let temporal: Client;
let taskQueue: string;

const tokens: Record<string, string> = {};
async function as(subject: string, roles: ('user' | 'helpdesk' | 'security-officer' | 'auditor' | 'service')[] = ['user'], scopes: string[] = []) {
  const key = `${subject}|${roles.join()}|${scopes.join()}`;
  tokens[key] ??= await svc.token(subject, roles, scopes);
  return tokens[key];
}
const helpdesk = () => as('agent-1', ['helpdesk']);
const officer = (n: number) => as(`officer-${n}`, ['security-officer']);

beforeAll(async () => {
  auth = await startFakeAuthServer();
  pager = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      pages.push(body);
      response.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => pager.listen(0, '127.0.0.1', resolve));
  const pagerPort = (pager.address() as { port: number }).port;
  taskQueue = uniqueName('recovery-api');
  svc = await startTestService(RecoveryOrchestratorDefinition, {
    env: {
      TEMPORAL_TASK_QUEUE: taskQueue,
      AUTH_GRPC_ADDRESS: auth.address,
      ONCALL_WEBHOOK_URL: `http://127.0.0.1:${pagerPort}/page`,
      ONCALL_WEBHOOK_SECRET: 'a-test-webhook-secret-of-at-least-32-bytes',
    },
  });
  temporal = new Client({ connection: await Connection.connect({ address: svc.service.resources.config.TEMPORAL_ADDRESS }), namespace: svc.service.resources.config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(svc.service.resources.config) });
}, 120_000);

afterAll(async () => {
  await svc?.stop();
  await auth?.stop();
  pager?.close();
  await temporal?.connection.close();
});

const newUser = () => `user-${randomUUID().slice(0, 8)}`;
const startBody = (userId: string, extra: Record<string, unknown> = {}) => ({ userId, reason: 'lost phone, verified by video', ticketReference: 'HD-42', ...extra });

async function started(userId = newUser()) {
  const response = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(userId) });
  expect(response.status).toBe(201);
  return { userId, recoveryId: response.body.recoveryId as string };
}

async function coolingOff() {
  const r = await started();
  expect((await svc.request('POST', `/v1/recoveries/${r.recoveryId}/evidence`, { token: await helpdesk(), body: { kind: 'helpdesk-attestation', reference: 'HD-42', outcome: 'passed' } })).status).toBe(200);
  expect((await svc.request('POST', `/v1/recoveries/${r.recoveryId}/approve`, { token: await officer(1), body: { reason: 'ok' } })).status).toBe(200);
  const second = await svc.request('POST', `/v1/recoveries/${r.recoveryId}/approve`, { token: await officer(2), body: { reason: 'ok' } });
  expect(second.body).toMatchObject({ state: 'cooling-off', approvals: 2, waitingFor: 'cooling-off' });
  return r;
}

const eventTypes = async (recoveryId: string): Promise<string[]> =>
  (await svc.service.resources.dataSource.query(`SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`recovery-${recoveryId}`])).map((row: { event_type: string }) => row.event_type);
const recoveryCount = async (userId: string): Promise<number> => Number((await svc.service.resources.dataSource.query(`SELECT count(*) AS n FROM recoveries WHERE user_id = $1`, [userId]))[0].n);

describe('starting a recovery', () => {
  it('helpdesk starts one with a ticket: the workflow is findable by user, state and kind, with reason and policy in its memo', async () => {
    const { userId, recoveryId } = await started();
    const handle = temporal.workflow.getHandle(recoveryWorkflowId(userId));
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.userId)).toBe(userId);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.kind)).toBe('assisted');
    expect(await description.memo).toMatchObject({ recoveryId, reason: 'lost phone, verified by video', policyVersion: 'default-1' });
    expect(await eventTypes(recoveryId)).toEqual(['RecoveryRequested']);
    const shown = await svc.request('GET', `/v1/recoveries/${recoveryId}`, { token: await officer(1) });
    expect(shown.body).toMatchObject({ recoveryId, state: 'awaiting-evidence', waitingFor: 'evidence', timeline: [{ type: 'RecoveryRequested' }] });
  });

  it('R3: a step reaches the recovery on whatever run its workflow is now (on-call reset it to a new run)', async () => {
    const { userId, recoveryId } = await started();
    const handle = temporal.workflow.getHandle(recoveryWorkflowId(userId));
    const firstRun = (await handle.describe()).runId;
    const firstTask = await until(async () => {
      const completed = (await handle.fetchHistory()).events!.find((event) => event.workflowTaskCompletedEventAttributes);
      expect(completed).toBeDefined();
      return completed!.eventId!;
    });
    const { runId } = await temporal.workflowService.resetWorkflowExecution({
      namespace: svc.service.resources.config.TEMPORAL_NAMESPACE,
      workflowExecution: { workflowId: recoveryWorkflowId(userId), runId: firstRun },
      reason: 'test: on-call resets the run',
      workflowTaskFinishEventId: firstTask,
      requestId: randomUUID(),
    });
    expect(runId).not.toBe(firstRun);
    const evidence = await svc.request('POST', `/v1/recoveries/${recoveryId}/evidence`, { token: await helpdesk(), body: { kind: 'helpdesk-attestation', reference: 'HD-42', outcome: 'passed' } });
    expect([evidence.status, evidence.body.state]).toEqual([200, 'awaiting-approval']);
  });

  it('one active recovery per user: a second start is refused with 409 and nothing is started', async () => {
    const { userId } = await started();
    const [a, b] = await Promise.all([
      svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(userId) }),
      svc.request('POST', '/v1/recoveries', { token: await officer(3), body: startBody(userId) }),
    ]);
    expect([a.status, b.status]).toEqual([409, 409]);
    expect(a.body.error.code).toBe('recovery_already_active');
    expect(await recoveryCount(userId)).toBe(1);
  });

  it('S27: a user asking for their own account gets the same 202 whether or not it starts', async () => {
    const userId = newUser();
    const first = await svc.request('POST', '/v1/recoveries', { token: await as(userId), body: { userId, reason: 'I lost my phone' } });
    const again = await svc.request('POST', '/v1/recoveries', { token: await as(userId), body: { userId, reason: 'I lost my phone' } });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(await recoveryCount(userId)).toBe(1);
  });

  it('S27: a self-service start replayed with its Idempotency-Key answers exactly what the first call did (202, same body), whether the start began a recovery or was refused', async () => {
    const userId = newUser();
    const start = async (key: string) =>
      svc.request('POST', '/v1/recoveries', { token: await as(userId), body: { userId, reason: 'I lost my phone' }, headers: { 'idempotency-key': key } });
    const began = `self-${randomUUID()}`;
    const firstBegan = await start(began);
    const replayBegan = await start(began);
    // A second request while the first recovery runs is refused inside, and must look the same from outside.
    const refused = `self-${randomUUID()}`;
    const firstRefused = await start(refused);
    const replayRefused = await start(refused);
    expect([firstBegan.status, replayBegan.status, firstRefused.status, replayRefused.status]).toEqual([202, 202, 202, 202]);
    expect(replayBegan.headers.get('idempotent-replayed')).toBe('true');
    expect(replayRefused.headers.get('idempotent-replayed')).toBe('true');
    for (const answer of [replayBegan, firstRefused, replayRefused]) expect(answer.body).toEqual(firstBegan.body);
    expect(await recoveryCount(userId)).toBe(1);
  });

  it('a staff start replayed with its Idempotency-Key answers 201 with the same recovery, and starts nothing more', async () => {
    const userId = newUser();
    const headers = { 'idempotency-key': `staff-${randomUUID()}` };
    const first = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(userId), headers });
    const replay = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(userId), headers });
    expect([first.status, replay.status]).toEqual([201, 201]);
    expect(replay.body).toEqual(first.body);
    expect(await recoveryCount(userId)).toBe(1);
  });

  it('refuses wrong roles and other users, and says why', async () => {
    const userId = newUser();
    expect((await svc.request('POST', '/v1/recoveries', { body: startBody(userId) })).status).toBe(401);
    const forOther = await svc.request('POST', '/v1/recoveries', { token: await as('someone'), body: { userId, reason: 'x' } });
    expect(forOther.status).toBe(403);
    const breakGlass = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(userId, { kind: 'break-glass' }) });
    expect(breakGlass.status).toBe(403);
    const auditor = await svc.request('POST', '/v1/recoveries', { token: await as('aud-1', ['auditor']), body: startBody(userId) });
    expect(auditor.status).toBe(403);
    const noTicket = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: { userId, reason: 'x' } });
    expect(noTicket.body.error.code).toBe('ticket_reference_required');
    expect(await recoveryCount(userId)).toBe(0);
  });

  it.each([
    ['a missing reason', { userId: 'u-1', ticketReference: 'T' }],
    ['a wrong type', { userId: 42, reason: 'r', ticketReference: 'T' }],
    ['an unknown field', { userId: 'u-1', reason: 'r', ticketReference: 'T', coolingOff: '0s' }],
    ['an unknown risk signal', { userId: 'u-1', reason: 'r', ticketReference: 'T', riskSignals: ['full-moon'] }],
    ['a bad user id', { userId: '../etc', reason: 'r', ticketReference: 'T' }],
  ])('R7: %s is a 400 with details, and nothing starts', async (_name, body) => {
    const response = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(await recoveryCount('u-1')).toBe(0);
  });

  it('R7: huge and deeply nested bodies and malformed JSON are refused', async () => {
    const huge = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(newUser(), { reason: 'x'.repeat(70_000) }) });
    expect(huge.status).toBe(413);
    let deep: unknown = 'x';
    for (let i = 0; i < 30; i++) deep = { deep };
    expect((await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: deep })).status).toBe(400);
    expect((await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), rawBody: '{"userId":' })).body.error.code).toBe('malformed_json');
  });
});

describe('approvals and roles', () => {
  it('S25: evidence, then two distinct officers reach quorum; the timeline lists every step; the subject sees it without staff ids', async () => {
    const r = await coolingOff();
    expect(await eventTypes(r.recoveryId)).toEqual(['RecoveryRequested', 'RecoveryEvidenceRecorded', 'RecoveryApproved', 'RecoveryApproved', 'RecoveryCoolingOffStarted']);
    const listed = await svc.request('GET', `/v1/recoveries?state=cooling-off&userId=${r.userId}`, { token: await officer(1) });
    expect(listed.body.recoveries).toEqual([expect.objectContaining({ recoveryId: r.recoveryId, state: 'cooling-off' })]);
    const mine = await svc.request('GET', `/v1/users/${r.userId}/recoveries`, { token: await as(r.userId) });
    expect(mine.body.recoveries).toHaveLength(1);
    const own = await svc.request('GET', `/v1/recoveries/${r.recoveryId}`, { token: await as(r.userId) });
    expect(own.body.timeline[2]).toEqual({ type: 'RecoveryApproved', at: expect.any(String) });
    expect((await svc.request('GET', `/v1/recoveries/${r.recoveryId}`, { token: await as('another-user') })).status).toBe(404);
    expect((await svc.request('GET', `/v1/users/${r.userId}/recoveries`, { token: await as('another-user') })).status).toBe(403);
    await until(async () => expect((await temporal.workflow.getHandle(recoveryWorkflowId(r.userId)).describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('cooling-off'));
  });

  it('S25: a helpdesk agent cannot approve, the attester cannot, the subject cannot, and one officer votes once (also with the same Idempotency-Key)', async () => {
    const r = await started();
    await svc.request('POST', `/v1/recoveries/${r.recoveryId}/evidence`, { token: await as('officer-7', ['security-officer']), body: { kind: 'helpdesk-attestation', reference: 'HD', outcome: 'passed' } });
    const approve = async (token: string, headers: Record<string, string> = {}) => svc.request('POST', `/v1/recoveries/${r.recoveryId}/approve`, { token, body: { reason: 'ok' }, headers });
    expect((await approve(await helpdesk())).status).toBe(403);
    expect((await approve(await officer(7))).body.error.code).toBe('approver_is_attester');
    expect((await approve(await as(r.userId, ['user', 'security-officer']))).body.error.code).toBe('approver_is_subject');
    expect((await approve(await as('agent-1', ['security-officer']))).body.error.code).toBe('approver_is_requester');
    const key = { 'idempotency-key': `vote-${randomUUID()}` };
    const first = await approve(await officer(1), key);
    const replay = await approve(await officer(1), key);
    expect(first.status).toBe(200);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await approve(await officer(1))).body.error.code).toBe('duplicate_vote');
    expect(await eventTypes(r.recoveryId)).toEqual(['RecoveryRequested', 'RecoveryEvidenceRecorded', 'RecoveryApproved']);
  });

  it('every step refuses bad input, unknown recoveries and wrong callers with a 4xx', async () => {
    const r = await started();
    const id = r.recoveryId;
    const cases: [string, string, string, unknown, number][] = [
      ['POST', `/v1/recoveries/${id}/evidence`, await helpdesk(), { kind: 'security-question', reference: 'x' }, 400],
      ['POST', `/v1/recoveries/${id}/evidence`, await as(r.userId), { kind: 'helpdesk-attestation', reference: 'x', outcome: 'passed' }, 403],
      ['POST', `/v1/recoveries/${id}/approve`, await officer(1), { reason: '' }, 400],
      ['POST', `/v1/recoveries/${id}/approve`, await officer(1), { reason: 'ok', extra: 1 }, 400],
      ['POST', `/v1/recoveries/${id}/approve`, await officer(1), { reason: 'ok' }, 409],
      ['POST', `/v1/recoveries/${id}/reject`, await helpdesk(), { reason: 'no' }, 403],
      ['POST', `/v1/recoveries/${randomUUID()}/approve`, await officer(1), { reason: 'ok' }, 404],
      ['POST', `/v1/recoveries/${id}/cancel`, await officer(1), { method: 'totp', proof: { code: '1' } }, 403],
      ['POST', `/v1/recoveries/${id}/cancel`, await as('intruder'), { method: 'totp', proof: { code: '1' } }, 404],
      ['POST', `/v1/recoveries/${id}/cancel`, await as(r.userId), { method: 'security-question', proof: {} }, 400],
      ['POST', `/v1/recoveries/${id}/pass-redemptions`, await as(r.userId), { passId: randomUUID() }, 403],
      ['POST', `/v1/recoveries/${id}/enrolments`, await as('auth', ['service'], ['recoveries:enrol']), { passId: 'not-a-uuid', factorId: 'f', factorKind: 'totp' }, 400],
      ['POST', `/v1/recoveries/${id}/review`, await officer(1), { findingsReference: 'PIR' }, 409],
      ['POST', `/v1/recoveries/${id}/wasnt-me`, '', { token: 'v1.k.abc.def' }, 403],
      ['GET', `/v1/recoveries?state=sleeping`, await officer(1), undefined, 400],
      ['GET', `/v1/recoveries`, await as(r.userId), undefined, 403],
      ['GET', `/v1/recoveries/..%2Fetc`, await officer(1), undefined, 400],
    ];
    for (const [method, path, token, body, status] of cases) {
      const response = await svc.request(method, path, { token: token || undefined, body });
      expect({ method, path, status: response.status }).toEqual({ method, path, status });
      expect(response.body.error.code).toEqual(expect.any(String));
    }
    expect(await eventTypes(id)).toEqual(['RecoveryRequested']);
  });
});

describe('cancelling', () => {
  it('S25: the subject cancels with a remaining factor checked by auth-service; a wrong proof changes nothing; afterwards every step is refused', async () => {
    const r = await coolingOff();
    auth.validCodes.add('246810');
    const wrong = await svc.request('POST', `/v1/recoveries/${r.recoveryId}/cancel`, { token: await as(r.userId), body: { method: 'totp', proof: { code: '000000' } } });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.code).toBe('auth_verification_failed');
    const cancelled = await svc.request('POST', `/v1/recoveries/${r.recoveryId}/cancel`, { token: await as(r.userId), body: { method: 'totp', proof: { code: '246810' } } });
    expect(cancelled.body).toMatchObject({ state: 'cancelled' });
    expect(auth.calls.filter((call) => call.method === 'Verify').every((call) => !JSON.stringify(call).includes('recoveryId'))).toBe(true);
    const late = await svc.request('POST', `/v1/recoveries/${r.recoveryId}/reject`, { token: await officer(3), body: { reason: 'late' } });
    expect([late.status, late.body.error.code]).toEqual([409, 'recovery_terminal']);
    expect((await eventTypes(r.recoveryId)).at(-1)).toBe('RecoveryCancelled');
  });

  it('"this wasn\'t me": the signed link cancels once, opens an incident that freezes the account, and a new recovery is refused until an officer unfreezes', async () => {
    const r = await coolingOff();
    const link = await svc.service.app.get(CancelLinks).mint(r.recoveryId);
    const token = link.split('#token=')[1];
    const tampered = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}A`;
    expect((await svc.request('POST', `/v1/recoveries/${r.recoveryId}/wasnt-me`, { body: { token: tampered } })).body.error.code).toBe('cancel_link_invalid');
    expect((await svc.request('POST', `/v1/recoveries/${r.recoveryId}/wasnt-me`, { body: { token } })).body).toEqual({ status: 'cancelled' });
    expect((await svc.request('POST', `/v1/recoveries/${r.recoveryId}/wasnt-me`, { body: { token } })).body.error.code).toBe('cancel_link_used');
    const incidents = await until(async () => {
      const listed = await svc.request('GET', `/v1/incidents?userId=${r.userId}&status=open`, { token: await officer(1) });
      expect(listed.body.incidents).toEqual([expect.objectContaining({ status: 'frozen', source: 'wasnt-me-link' })]);
      return listed.body.incidents as { incidentId: string }[];
    });
    await until(async () => expect(auth.calls.some((call) => call.method === 'FreezeAccount' && call.request.user_id === r.userId)).toBe(true));
    const refused = await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(r.userId) });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'account_frozen']);
    expect((await svc.request('DELETE', `/v1/users/${r.userId}/freeze`, { token: await as(r.userId, ['user', 'security-officer']), body: { reason: 'mine' } })).body.error.code).toBe('decider_is_subject');
    const unfrozen = await svc.request('DELETE', `/v1/users/${r.userId}/freeze`, { token: await officer(1), body: { reason: 'the user confirmed a mistaken click' } });
    expect(unfrozen.body).toMatchObject({ incidentId: incidents[0].incidentId, status: 'unfrozen' });
    expect((await svc.request('POST', '/v1/recoveries', { token: await helpdesk(), body: startBody(r.userId) })).status).toBe(201);
  });
});

describe('incidents', () => {
  it('an officer freezes an account: the recovery under way is cancelled, a second freeze is refused, and only officers decide', async () => {
    const r = await started();
    const frozen = await svc.request('POST', `/v1/users/${r.userId}/freeze`, { token: await officer(1), body: { reason: 'credential stuffing from one ASN' } });
    expect(frozen.status).toBe(201);
    expect(frozen.body).toMatchObject({ status: 'frozen', source: 'security-team' });
    await until(async () => expect((await eventTypes(r.recoveryId)).at(-1)).toBe('RecoveryCancelled'));
    expect((await svc.request('POST', `/v1/users/${r.userId}/freeze`, { token: await officer(2), body: { reason: 'again' } })).body.error.code).toBe('incident_already_open');
    expect((await svc.request('POST', `/v1/users/${r.userId}/freeze`, { token: await as('other-user'), body: { reason: 'x' } })).status).toBe(403);
    expect((await svc.request('POST', `/v1/incidents/${frozen.body.incidentId}/decision`, { token: await helpdesk(), body: { decision: 'unfreeze', reason: 'x' } })).status).toBe(403);
    expect((await svc.request('POST', `/v1/incidents/${frozen.body.incidentId}/decision`, { token: await officer(2), body: { decision: 'shrug', reason: 'x' } })).status).toBe(400);
    const forced = await svc.request('POST', `/v1/incidents/${frozen.body.incidentId}/decision`, {
      token: await officer(2),
      body: { decision: 'force-recovery', reason: 'the attacker holds the phone', ticketReference: 'INC-9' },
    });
    expect(forced.body).toMatchObject({ status: 'recovery-forced' });
    const listed = await until(async () => {
      const list = await svc.request('GET', `/v1/recoveries?userId=${r.userId}&state=active`, { token: await officer(1) });
      expect(list.body.recoveries).toEqual([expect.objectContaining({ forcedByIncidentId: frozen.body.incidentId })]);
      return list;
    });
    expect(listed.status).toBe(200);
    await until(async () => expect(pages.some((page) => page.includes(frozen.body.incidentId))).toBe(true));
  });
});

describe('gRPC (tessera.recovery.v1.RecoveryService)', () => {
  type Unary = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: Record<string, unknown>) => void) => void;
  let grpc: Record<string, Unary> & { close(): void };

  beforeAll(async () => {
    const pkg = loadPackageDefinition(loadSync(protoPath('recovery'), { keepCase: true, defaults: true })) as unknown as {
      tessera: { recovery: { v1: { RecoveryService: new (address: string, creds: ChannelCredentials) => typeof grpc } } };
    };
    grpc = new pkg.tessera.recovery.v1.RecoveryService(svc.service.grpcUrl!, credentials.createInsecure());
  });
  afterAll(() => grpc?.close());

  async function call(method: string, token: string | null, request: object): Promise<{ code: number; details: string; response?: Record<string, unknown> }> {
    const metadata = new Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve) => grpc[method].call(grpc, request, metadata, (error, response) => resolve(error ? { code: error.code, details: error.details } : { code: 0, details: '', response })));
  }

  it('runs the same use cases with the same rules: start, approve, list; wrong roles, bad input and a missing idempotency key are refused', async () => {
    const userId = newUser();
    const started = await call('StartRecovery', await helpdesk(), { user_id: userId, reason: 'lost phone', ticket_reference: 'HD-9', idempotency_key: `start-${randomUUID()}` });
    expect(started).toMatchObject({ code: 0, response: { user_id: userId, state: 'awaiting-evidence', kind: 'assisted' } });
    const recoveryId = started.response!.recovery_id as string;
    expect((await call('StartRecovery', await as(userId), { user_id: userId, reason: 'x', ticket_reference: 'T', idempotency_key: `start-${randomUUID()}` })).code).toBe(7);
    expect((await call('StartRecovery', null, { user_id: userId, reason: 'x', idempotency_key: `start-${randomUUID()}` })).code).toBe(16);
    expect((await call('StartRecovery', await helpdesk(), { user_id: userId, reason: 'x', ticket_reference: 'T' })).code).toBe(3);
    expect((await call('StartRecovery', await helpdesk(), { user_id: '../x', reason: 'x', ticket_reference: 'T', idempotency_key: `start-${randomUUID()}` })).code).toBe(3);
    const again = await call('StartRecovery', await helpdesk(), { user_id: userId, reason: 'x', ticket_reference: 'T', idempotency_key: `start-${randomUUID()}` });
    expect([again.code, again.details.split(':')[0]]).toEqual([6, 'recovery_already_active']);
    const evidence = await call('RecordEvidence', await helpdesk(), { recovery_id: recoveryId, kind: 'helpdesk-attestation', reference: 'HD-9', outcome: 'passed', idempotency_key: `ev-${randomUUID()}` });
    expect(evidence.response).toMatchObject({ state: 'awaiting-approval' });
    const key = `approve-${randomUUID()}`;
    expect((await call('ApproveRecovery', await officer(1), { recovery_id: recoveryId, reason: 'ok', idempotency_key: key })).response).toMatchObject({ approvals: 1 });
    expect((await call('ApproveRecovery', await officer(1), { recovery_id: recoveryId, reason: 'ok', idempotency_key: key })).response).toMatchObject({ approvals: 1 });
    expect((await call('ApproveRecovery', await helpdesk(), { recovery_id: recoveryId, reason: 'ok', idempotency_key: `a-${randomUUID()}` })).code).toBe(7);
    expect((await call('ApproveRecovery', await officer(1), { recovery_id: recoveryId, reason: 'ok', idempotency_key: `a-${randomUUID()}` })).details).toBe('duplicate_vote');
    expect((await call('RedeemTemporaryAccessPass', await as(userId), { recovery_id: recoveryId, pass_id: randomUUID(), idempotency_key: `r-${randomUUID()}` })).code).toBe(7);
    const listed = await call('ListRecoveries', await officer(2), { user_id: userId });
    expect((listed.response!.recoveries as unknown[]).length).toBe(1);
    expect((await call('GetRecovery', await as('someone-else'), { recovery_id: recoveryId })).code).toBe(5);
    expect(await eventTypes(recoveryId)).toEqual(['RecoveryRequested', 'RecoveryEvidenceRecorded', 'RecoveryApproved']);
  });
});
