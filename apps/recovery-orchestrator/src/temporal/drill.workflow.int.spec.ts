import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_RECOVERY_POLICY, type RecoveryPolicy } from '@tessera/recovery-domain';
import { randomUUID } from 'node:crypto';
import { testInfra } from '@tessera/testing';
import { fakeActivities } from '../testing/fake-ports';
import { DRILL, drillRunner } from '../testing/fake-drill-runner';
import { InMemoryLedger } from '../testing/in-memory-ledger';
import { runWorker, timeSkippingEnvironment } from '../testing/workflow-env';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnvironment(testInfra().temporalTestServer);
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

const ledger = () => new InMemoryLedger(new Map<string, RecoveryPolicy>([[DEFAULT_RECOVERY_POLICY.policyVersion, DEFAULT_RECOVERY_POLICY], [DRILL.policyVersion, DRILL]]));

describe('recovery drills (time-skipping)', () => {
  it('a drill runs a synthetic assisted recovery end to end with shortened timers and reports success', async () => {
    const store = ledger();
    const { activities, world } = fakeActivities(store, drillRunner(env, store));
    await runWorker(env, activities, async (taskQueue) => {
      const drillId = randomUUID();
      const outcome = await env.client.workflow.execute('drillWorkflow', { taskQueue, workflowId: `drill-${drillId}`, args: [{ drillId }] });
      expect(outcome).toEqual({ drillId, recoveryId: `drill-${drillId}`, outcome: 'succeeded', reason: null });
      // The same path as a real recovery: a pass issued by auth-service, the old factors revoked.
      expect(world.auth.called('issueTemporaryAccessPass')).toHaveLength(1);
      expect(store.events(`drill-${drillId}`).at(-1)?.type).toBe('RecoveryCompleted');
    });
  });

  it('a drill whose recovery cannot get its approvals fails, saying how far it got', async () => {
    const store = ledger();
    const { activities } = fakeActivities(store, drillRunner(env, store, { approvals: 1 }));
    await runWorker(env, activities, async (taskQueue) => {
      const drillId = randomUUID();
      const outcome = await env.client.workflow.execute('drillWorkflow', { taskQueue, workflowId: `drill-${drillId}`, args: [{ drillId }] });
      expect(outcome).toEqual({ drillId, recoveryId: `drill-${drillId}`, outcome: 'failed', reason: 'recovery-expired' });
    });
  });
});
