import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { type TestService, startTestService, testInfra, uniqueName } from '@tessera/testing';
import { RECOVERY_WORKFLOWS_PATH } from '@tessera/recovery-workflows';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../../recovery-orchestrator/src/service';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('Temporal', () => {
  describe("the recovery-orchestrator's worker on the real dev server", () => {
    let orchestrator: TestService<typeof recoveryOrchestratorConfigSchema>;
    const taskQueue = uniqueName('e2e-recovery');

    beforeAll(async () => {
      orchestrator = await startTestService(RecoveryOrchestratorDefinition, { env: { TEMPORAL_TASK_QUEUE: taskQueue } });
    });
    afterAll(() => orchestrator?.stop());

    it('runs a workflow started by a client, and counts Temporal in its readiness', async () => {
      const ready = await orchestrator.request('GET', '/health/ready');
      expect(ready.body.checks.temporal).toEqual({ status: 'up' });

      const infra = testInfra();
      const connection = await Connection.connect({ address: `127.0.0.1:${infra.temporalPort}` });
      try {
        const client = new Client({ connection, namespace: infra.temporalNamespace });
        const result = await client.workflow.execute('coolingOffWorkflow', {
          taskQueue,
          workflowId: uniqueName('e2e-cooling-off'),
          args: [{ recoveryId: 'e2e-recovery', durationMs: 1_000 }],
          workflowExecutionTimeout: '1 minute',
        });
        expect(result).toEqual({ outcome: 'elapsed' });
      } finally {
        await connection.close();
      }
    });
  });

  describe('the time-skipping test server (from the PyPI wheel, not a download)', () => {
    let environment: TestWorkflowEnvironment;

    beforeAll(async () => {
      environment = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: testInfra().temporalTestServer } },
      });
    });
    afterAll(() => environment?.teardown());

    it('completes a workflow that sleeps 24 hours, its clock moving a day while the test takes seconds', async () => {
      const taskQueue = uniqueName('time-skipping');
      const worker = await Worker.create({ connection: environment.nativeConnection, taskQueue, workflowsPath: RECOVERY_WORKFLOWS_PATH });
      const startedAt = await environment.currentTimeMs();
      const result = await worker.runUntil(
        environment.client.workflow.execute('coolingOffWorkflow', { taskQueue, workflowId: uniqueName('sleeps-a-day'), args: [{ recoveryId: 'r-1', durationMs: DAY_MS }] }),
      );
      expect(result).toEqual({ outcome: 'elapsed' });
      expect((await environment.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(DAY_MS);
    });
  });
});
