import { Client, Connection } from '@temporalio/client';
import { type TestService, eventually, startTestService, testInfra, uniqueName } from '@tessera/testing';
import { AuthServiceDefinition, type authServiceConfigSchema } from '../../auth-service/src/service';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../../recovery-orchestrator/src/service';
import { temporalDataConverter } from '../../recovery-orchestrator/src/temporal/payload-codec';

/**
 * A recovery runs as a workflow on the real Temporal dev server through the orchestrator's own worker,
 * beside a real auth-service, and on-call finds it by user id. (The time-skipping server, from its
 * PyPI wheel, runs the same workflow code in apps/recovery-orchestrator/src/temporal/*.int.spec.ts:
 * a 24-hour cooling-off passes there in seconds.)
 */
describe("Temporal: the recovery-orchestrator's worker on the real dev server", () => {
  let auth: TestService<typeof authServiceConfigSchema>;
  let orchestrator: TestService<typeof recoveryOrchestratorConfigSchema>;

  beforeAll(async () => {
    auth = await startTestService(AuthServiceDefinition);
    const serviceToken = await auth.token('recovery-orchestrator', ['service'], ['factors:verify', 'factors:read', 'factors:manage']);
    orchestrator = await startTestService(RecoveryOrchestratorDefinition, {
      env: { TEMPORAL_TASK_QUEUE: uniqueName('e2e-recovery'), AUTH_GRPC_ADDRESS: auth.service.grpcUrl as string, AUTH_GRPC_TOKEN: serviceToken },
    });
  });
  afterAll(async () => {
    await orchestrator?.stop();
    await auth?.stop();
  });

  it('counts Temporal in its readiness, runs a recovery to cooling-off, and on-call finds it by TesseraUserId', async () => {
    expect((await orchestrator.request('GET', '/health/ready')).body.checks.temporal).toEqual({ status: 'up' });

    const userId = uniqueName('e2e-user');
    const helpdesk = await orchestrator.token('agent-1', ['helpdesk']);
    const started = await orchestrator.request('POST', '/v1/recoveries', { token: helpdesk, body: { userId, reason: 'lost phone, verified by video call', ticketReference: 'HD-7' } });
    expect(started.status).toBe(201);
    const path = `/v1/recoveries/${started.body.recoveryId}`;

    const evidence = await orchestrator.request('POST', `${path}/evidence`, { token: helpdesk, body: { kind: 'helpdesk-attestation', reference: 'HD-7', outcome: 'passed' } });
    expect(evidence.status).toBe(200);
    for (const officer of ['officer-1', 'officer-2']) {
      const vote = await orchestrator.request('POST', `${path}/approve`, { token: await orchestrator.token(officer, ['security-officer']), body: { reason: 'identity re-verified' } });
      expect(vote.status).toBe(200);
    }
    const shown = await orchestrator.request('GET', path, { token: await orchestrator.token('officer-1', ['security-officer']) });
    expect(shown.body).toMatchObject({ state: 'cooling-off', approvals: 2 });

    const infra = testInfra();
    const connection = await Connection.connect({ address: `127.0.0.1:${infra.temporalPort}` });
    try {
      // The orchestrator seals its payloads (memo included, S32); reading them takes its converter.
      const client = new Client({ connection, namespace: infra.temporalNamespace, dataConverter: temporalDataConverter(orchestrator.service.resources.config) });
      await eventually(async () => {
        for await (const workflow of client.workflow.list({ query: `TesseraUserId = '${userId}'` })) {
          if (workflow.type === 'recoveryWorkflow' && workflow.status.name === 'RUNNING') return true;
        }
        return false;
      }, 30_000, 500);
    } finally {
      await connection.close();
    }
  });
});
