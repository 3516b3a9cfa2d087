// Minimal reproduction of two time-skipping test server quirks (Temporal's Java test server as bundled
// with @temporalio/testing 1.24). After either, the server's time-skipping lock stays held, and every
// later wait on that server runs in real time: a one-day timer never fires within a test.
//
// 1. A workflow terminated while one of its workflow tasks is in flight on a worker (just started, or
//    just signalled). The worker's core logs "Task not found when completing" for the run.
// 2. A workflow that starts an abandoned child (ParentClosePolicy.ABANDON) and completes, even once the
//    child has completed too. This is how a recovery opens its incident after "this wasn't me".
//
// Upstream reports of the same shape: temporalio/sdk-java#1138 and the terminate comment on #3088 (a lock
// taken for an in-flight task, never released when the run closes), temporalio/sdk-typescript#1101 and
// temporalio/sdk-java#1618 (child workflows).
//
// Workarounds in Tessera's tests (testing/workflow-env.ts): a test ends a waiting run through its own
// messages, or with `terminateWhenIdle`, never a bare terminate; a test that opens an incident from a
// recovery runs on a time-skipping server of its own (`withOwnTimeSkippingServer`).
//
//   node -r @swc-node/register apps/recovery-orchestrator/src/testing/time-skipping-repro/repro.ts [scenario]
// The control ("tasks settled") prints "timer fired"; the others print "STUCK" while the bugs last.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { pokeSignal } from './workflows';

type Before = 'tasks settled' | 'just started' | 'just signalled' | 'abandoned child';

/** Waits until every workflow task scheduled so far has completed (none in flight). */
async function settled(handle: WorkflowHandle): Promise<void> {
  const { EventType } = temporal.api.enums.v1;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const count = (type: number) => events.filter((event) => event.eventType === type).length;
    if (count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) === count(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)) return;
    await new Promise((done) => setTimeout(done, 50));
  }
}

const REAL_TIME_LIMIT_MS = 20_000;

async function scenario(testServer: string, before: Before): Promise<'timer fired' | 'STUCK'> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServer } } });
  try {
    const taskQueue = `repro-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('./workflows') });
    return await worker.runUntil(async () => {
      if (before === 'abandoned child') {
        const childId = `child-${randomUUID()}`;
        await env.client.workflow.execute('parentOfAbandonedChild', { taskQueue, workflowId: `parent-${randomUUID()}`, args: [childId] });
        const child = env.client.workflow.getHandle(childId);
        // Still running: the parent abandoned it. (Signalled without this look, the signal is sometimes
        // refused as "Completed workflow", a race of its own on this server.)
        if ((await child.describe()).status.name !== 'RUNNING') throw new Error('the abandoned child should still run');
        await child.signal(pokeSignal);
        await child.result();
      } else {
        const waiting = await env.client.workflow.start('waitForever', { taskQueue, workflowId: `wait-${randomUUID()}` });
        if (before !== 'just started') await settled(waiting);
        if (before === 'just signalled') await waiting.signal(pokeSignal);
        await waiting.terminate('repro');
      }
      const timer = await env.client.workflow.start('oneDayTimer', { taskQueue, workflowId: `timer-${randomUUID()}` });
      let limit: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        timer.result().then(() => 'timer fired' as const),
        new Promise<'STUCK'>((done) => (limit = setTimeout(() => done('STUCK'), REAL_TIME_LIMIT_MS))),
      ]);
      clearTimeout(limit);
      if (outcome === 'STUCK') await timer.terminate('repro over');
      return outcome;
    });
  } finally {
    await env.teardown();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const testServer = resolve(__dirname, '../../../../../.local/venv/bin/temporal-test-server');
  for (const before of (process.argv[2] ? [process.argv[2] as Before] : (['tasks settled', 'just started', 'just signalled', 'abandoned child'] as const))) {
    process.stdout.write(`terminate when ${before}: ${await scenario(testServer, before)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
