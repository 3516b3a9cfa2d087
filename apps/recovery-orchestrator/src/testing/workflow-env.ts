// Test support: the time-skipping test server with the search attributes on-call uses, and a worker
// per test on its own task queue running the real workflows and activities over fakes.
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { RECOVERY_WORKFLOWS_PATH, type RecoveryActivities } from '@tessera/recovery-workflows';

/** IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (temporal/api/enums/v1/common.proto). */
const KEYWORD = 2;

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
