import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { recoveryStateQuery, recoveryWorkflowId } from '@tessera/recovery-workflows';
import { type TestService, startTestService, uniqueName } from '@tessera/testing';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../service';
import { type FakeAuthServer, startFakeAuthServer } from '../testing/fake-auth-grpc.server';
import { KEY_ID_METADATA, SEALED_ENCODING, temporalDataConverter } from './payload-codec';

/**
 * S32 on the real Temporal dev server: the orchestrator's payloads reach Temporal sealed. A client
 * without the codec (what Temporal's stores and its Web UI hold) reads the history and the memo and
 * finds no user id, reason or ticket text in any payload, while the service, which holds the keys,
 * runs the recovery as before. Search attributes are not payloads: they carry the user id on purpose,
 * so on-call can find a user's recovery.
 */
let svc: TestService<typeof recoveryOrchestratorConfigSchema>;
let auth: FakeAuthServer;
let raw: Client;
let decoding: Client;

beforeAll(async () => {
  auth = await startFakeAuthServer();
  svc = await startTestService(RecoveryOrchestratorDefinition, {
    env: { TEMPORAL_TASK_QUEUE: uniqueName('recovery-codec'), AUTH_GRPC_ADDRESS: auth.address, AUTH_EVENTS_CONSUMER: uniqueName('auth-link') },
  });
  const { TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = svc.service.resources.config;
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  raw = new Client({ connection, namespace: TEMPORAL_NAMESPACE });
  decoding = new Client({ connection, namespace: TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(svc.service.resources.config) });
}, 120_000);

afterAll(async () => {
  await svc?.stop();
  await auth?.stop();
  await raw?.connection.close();
});

type RawPayload = temporal.api.common.v1.IPayload;

/** Every payload in a history or description, except search attributes (indexed in clear by design). */
function payloadsIn(node: unknown, found: RawPayload[] = [], key = ''): RawPayload[] {
  if (key === 'searchAttributes' || node === null || typeof node !== 'object' || node instanceof Uint8Array) return found;
  const candidate = node as RawPayload;
  if (candidate.metadata && typeof candidate.metadata === 'object' && 'encoding' in candidate.metadata) {
    found.push(candidate);
    return found;
  }
  for (const [name, child] of Object.entries(node)) payloadsIn(child, found, name);
  return found;
}

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('S32: Temporal payloads are sealed by the orchestrator', () => {
  it('S32: a real recovery\'s history and memo, read without the codec, hold no user id, reason or ticket text in any payload; the workflow still runs', async () => {
    const userId = `codec-user-${randomUUID().slice(0, 8)}`;
    const ticket = `HD-${randomUUID().slice(0, 8)}`;
    const reason = `lost phone of ${userId}, verified by video (${ticket})`;
    const helpdesk = await svc.token('agent-1', ['helpdesk']);
    const started = await svc.request('POST', '/v1/recoveries', { token: helpdesk, body: { userId, reason, ticketReference: ticket } });
    expect(started.status).toBe(201);
    const recoveryId = started.body.recoveryId as string;
    const evidence = await svc.request('POST', `/v1/recoveries/${recoveryId}/evidence`, { token: helpdesk, body: { kind: 'helpdesk-attestation', reference: ticket, outcome: 'passed' } });
    expect(evidence.status).toBe(200);
    const approved = await svc.request('POST', `/v1/recoveries/${recoveryId}/approve`, { token: await svc.token('officer-1', ['security-officer']), body: { reason: `seen ${ticket}` } });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'awaiting-approval', approvals: 1 });

    // What Temporal stores: the history (start input, updates and their results, activities) and the memo.
    const workflowId = recoveryWorkflowId(userId);
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const description = await raw.workflowService.describeWorkflowExecution({ namespace: svc.service.resources.config.TEMPORAL_NAMESPACE, execution: { workflowId } });
    const payloads = [...payloadsIn(history.events), ...payloadsIn(description.executionConfig), ...payloadsIn(description.workflowExtendedInfo), ...payloadsIn(description.workflowExecutionInfo?.memo)];
    const memo = Object.values(description.workflowExecutionInfo?.memo?.fields ?? {});
    expect(memo.length).toBeGreaterThan(0);
    // The start input, the update of the evidence and of the vote, and the activities' inputs and results.
    expect(payloads.length).toBeGreaterThan(6);
    for (const payload of [...payloads, ...memo]) {
      expect(text(payload.metadata?.encoding)).toBe(SEALED_ENCODING);
      expect(text(payload.metadata?.[KEY_ID_METADATA])).toBe('dev-insecure');
      const data = Buffer.from(payload.data ?? new Uint8Array()).toString('latin1');
      for (const personal of [userId, ticket, 'verified by video', recoveryId]) expect(data).not.toContain(personal);
    }
    const everything = JSON.stringify(history.events);
    for (const secretish of [ticket, 'verified by video']) {
      expect(everything).not.toContain(secretish);
      expect(everything).not.toContain(Buffer.from(secretish).toString('base64'));
    }

    // With the keys, everything reads as before: memo for on-call, the state through a query.
    const handle = decoding.workflow.getHandle(workflowId);
    expect(await (await handle.describe()).memo).toMatchObject({ recoveryId, reason, policyVersion: 'default-1' });
    expect(await handle.query(recoveryStateQuery)).toMatchObject({ recoveryId, status: 'awaiting-approval', approvals: 1 });
  });
});
