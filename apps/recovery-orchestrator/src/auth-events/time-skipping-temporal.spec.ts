// Test support: a time-skipping Temporal test server that the real recovery-orchestrator service can
// run its worker on, so a test drives a whole recovery — a day of cooling-off, a week of restricted
// period — in seconds. The platform's dev server cannot skip time, and the policy floor (an hour of
// cooling-off at least, policy.schema.ts) is there on purpose.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, testInfra } from '@tessera/testing';
import pino from 'pino';
import { installTemporalRuntime } from '../temporal/temporal-worker.service';
import { registerSearchAttributes } from '../testing/workflow-env';

export interface TimeSkippingTemporal {
  readonly env: TestWorkflowEnvironment;
  /** TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE for the service under test. */
  readonly serviceEnv: { readonly TEMPORAL_ADDRESS: string; readonly TEMPORAL_NAMESPACE: string };
  /** Moves the server's clock on by `ms` (timers due in between fire). */
  skip(ms: number): Promise<void>;
  teardown(): Promise<void>;
}

export async function startTimeSkippingTemporal(): Promise<TimeSkippingTemporal> {
  // The service's worker installs the SDK runtime once per process; the test environment would create
  // a default one first, so install the service's (silent) before it.
  installTemporalRuntime(pino({ level: 'silent' }));
  const port = await freePort();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testInfra().temporalTestServer }, port } });
  await registerSearchAttributes(env);
  return {
    env,
    serviceEnv: { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: env.namespace ?? 'default' },
    skip: (ms) => env.sleep(ms),
    teardown: () => env.teardown(),
  };
}
