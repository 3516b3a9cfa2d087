// Test support: the time-skipping test server with the search attributes on-call uses, and a worker
// per test on its own task queue running the real workflows and activities over fakes.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { RECOVERY_WORKFLOWS_PATH, type RecoveryActivities, type StepActor } from '@tessera/recovery-workflows';

/** IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (temporal/api/enums/v1/common.proto). */
const KEYWORD = 2;

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** The people of the workflow tests. */
export const HELPDESK: StepActor = { kind: 'helpdesk', id: 'agent-1' };
export const officer = (n: number): StepActor => ({ kind: 'security-officer', id: `officer-${n}` });

let quiet = false;
/** Worker logs at WARN and up: a test's output is its verdict. */
export function quietTemporalLogs(): void {
  if (quiet) return;
  quiet = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by this process.
  }
}

/** Polls `check` until it stops throwing (an expectation met) or `timeoutMs` passes. */
export async function until<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** `testServer`: the time-skipping test server's executable (testInfra().temporalTestServer). */
export async function timeSkippingEnvironment(testServer: string): Promise<TestWorkflowEnvironment> {
  quietTemporalLogs();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServer } } });
  await registerSearchAttributes(env);
  return env;
}

/**
 * Runs `body` on a time-skipping server of its own, torn down after. For a test whose workflow starts
 * an abandoned child (a recovery opening its incident): the server never skips time again after one
 * (testing/time-skipping-repro/repro.ts), so sharing it would make every later test wait in real time.
 */
export async function withOwnTimeSkippingServer<T>(testServer: string, body: (env: TestWorkflowEnvironment) => Promise<T>): Promise<T> {
  const own = await timeSkippingEnvironment(testServer);
  try {
    return await body(own);
  } finally {
    await own.teardown();
  }
}

export async function registerSearchAttributes(env: TestWorkflowEnvironment, namespace = env.namespace ?? 'default'): Promise<void> {
  await env.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: { TesseraUserId: KEYWORD, TesseraRecoveryState: KEYWORD, TesseraRecoveryKind: KEYWORD },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: RECOVERY_WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (message: string) => console.error(message) } });
  return bundle;
}

export async function runWorker<T>(env: TestWorkflowEnvironment, activities: RecoveryActivities, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `recovery-test-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: await workflowBundle(), activities });
  return worker.runUntil(body(taskQueue));
}

const { EventType } = temporal.api.enums.v1;
const WORKFLOW_TASK_CLOSED = [EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT];
const ACTIVITY_CLOSED = [
  EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
  EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
];

/**
 * Ends a run a test leaves waiting, once nothing of it is in flight. The time-skipping server never
 * releases the time-skipping lock of a workflow or activity task that was in flight when its run was
 * terminated, and every later test on that server then waits in real time
 * (testing/time-skipping-repro/repro.ts reproduces it).
 */
export async function terminateWhenIdle(handle: WorkflowHandle, reason = 'test over'): Promise<void> {
  await until(async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const count = (types: readonly number[]) => events.filter((event) => types.includes(event.eventType ?? 0)).length;
    if (count([EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED]) !== count(WORKFLOW_TASK_CLOSED)) throw new Error('a workflow task is in flight');
    if (count([EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]) !== count(ACTIVITY_CLOSED)) throw new Error('an activity is in flight');
  });
  await handle.terminate(reason);
}
