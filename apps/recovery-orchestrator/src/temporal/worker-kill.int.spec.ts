import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { DevIssuer } from '@tessera/platform';
import { createTestDatabase, freePort, kafkaBrokers, type TestDatabase, testInfra, uniqueName } from '@tessera/testing';
import { startFakeAuthServer, type FakeAuthServer } from '../testing/fake-auth-grpc.server';
import { until } from '../testing/workflow-env';

/**
 * R3 with a real crash: the whole recovery-orchestrator process — its HTTP API and its Temporal worker —
 * runs as a child process and is killed with SIGKILL while a recovery is in its cooling-off (no drain,
 * no graceful worker shutdown). The cooling-off ends while nothing runs; a new process picks the
 * workflow up from the dev server and goes on. The recovery is a drill's, of a synthetic account, the
 * one kind whose timers may be shortened (here by 10,000: a 24 h cooling-off lasts 8.6 s). The
 * in-process R3 test (worker-restart.int.spec.ts) takes a recovery to completion across a restart.
 */
const TIMER_FACTOR = 10_000;
const infra = testInfra();
let database: TestDatabase;
let auth: FakeAuthServer;
let issuer: DevIssuer;
let env: NodeJS.ProcessEnv;
let child: ChildProcess | undefined;
let base: string;

function startOrchestrator(): ChildProcess {
  const process_ = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', '-r', '@swc-node/register', 'apps/recovery-orchestrator/src/main.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return process_;
}

async function ready(): Promise<void> {
  await until(async () => expect((await fetch(`${base}/health/ready`)).status).toBe(200), 120_000);
}

beforeAll(async () => {
  database = await createTestDatabase('recovery_r3_kill');
  auth = await startFakeAuthServer();
  issuer = await DevIssuer.generate('test');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const drillUser = `drill-${randomUUID().slice(0, 8)}`;
  env = {
    ...process.env,
    TESSERA_ENV: 'test',
    LOG_LEVEL: 'silent',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    GRPC_PORT: String(await freePort()),
    DATABASE_URL: database.url,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    TEMPORAL_ADDRESS: `127.0.0.1:${infra.temporalPort}`,
    TEMPORAL_NAMESPACE: infra.temporalNamespace,
    TEMPORAL_TASK_QUEUE: uniqueName('recovery-r3-kill'),
    AUTH_JWKS_JSON: issuer.jwksJson(),
    AUTH_GRPC_ADDRESS: auth.address,
    AUTH_GRPC_TOKEN: 'test-token',
    AUTH_EVENTS_CONSUMER: uniqueName('auth-link'),
    DRILL_USER_ID: drillUser,
    SYNTHETIC_TEST_ACCOUNTS: drillUser,
    DRILL_TIMER_FACTOR: String(TIMER_FACTOR),
    // Where the drill's pass goes (the fake auth-service takes it).
    RECOVERY_CONTACTS_JSON: JSON.stringify({ [drillUser]: [{ kind: 'email', address: `${drillUser}@drills.example` }] }),
  };
}, 120_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await auth?.stop();
  await database?.drop();
});

it('R3: the orchestrator killed (SIGKILL) during a cooling-off; the cooling-off ends with nothing running; a new process issues the pass once, after it, and runs the recovery on', async () => {
  child = startOrchestrator();
  await ready();
  const officer = await issuer.token({ subject: 'officer-1', roles: ['security-officer'] });
  const started = await fetch(`${base}/v1/drills`, { method: 'POST', headers: { authorization: `Bearer ${officer}` } });
  expect(started.status).toBe(202);
  const { drillId } = (await started.json()) as { drillId: string };
  const recoveryId = `drill-${drillId}`;
  const show = async () => {
    const response = await fetch(`${base}/v1/recoveries/${recoveryId}`, { headers: { authorization: `Bearer ${officer}` } });
    return response.status === 200 ? ((await response.json()) as { state: string; coolingOffEndsAt?: string }) : null;
  };

  // Kill inside the cooling-off: no drain, no worker shutdown, its timer only on the server. (A moment
  // after it starts, so that its notice is out: an activity killed in flight waits out its
  // start-to-close timeout before its retry, longer than a drill's shortened timers allow.)
  const cooling = await until(async () => {
    const recovery = await show();
    expect(recovery?.state).toBe('cooling-off');
    return recovery!;
  }, 60_000);
  await new Promise((resolve) => setTimeout(resolve, Math.min(1_500, Date.parse(cooling.coolingOffEndsAt!) - Date.now() - 3_000)));
  expect((await show())?.state).toBe('cooling-off');
  child.kill('SIGKILL');
  await new Promise((resolve) => child!.once('exit', resolve));
  const endsAt = Date.parse(cooling.coolingOffEndsAt!);
  // Let the cooling-off end while nothing runs.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now()) + 1_000));
  expect(auth.calls.filter((call) => call.method === 'IssueTemporaryAccessPass')).toHaveLength(0);

  child = startOrchestrator();
  await ready();
  // The new process picks the workflow up where the server's timer left it: the pass is issued once,
  // after the cooling-off, and the recovery goes on to the decider's next deadline.
  const timeline = await until(async () => {
    const response = await fetch(`${base}/v1/recoveries/${recoveryId}`, { headers: { authorization: `Bearer ${officer}` } });
    const recovery = (await response.json()) as { timeline: { type: string; at: string }[] };
    expect(recovery.timeline.map((entry) => entry.type)).toContain('TemporaryAccessPassIssued');
    return recovery.timeline;
  }, 120_000);
  const issued = timeline.filter((entry) => entry.type === 'TemporaryAccessPassIssued');
  expect(issued).toHaveLength(1);
  expect(Date.parse(issued[0].at)).toBeGreaterThanOrEqual(endsAt);
  expect(auth.calls.filter((call) => call.method === 'IssueTemporaryAccessPass')).toHaveLength(1);
  // Then it runs to its end on the decider's deadlines: normally the drill redeems the pass, enrols and
  // the recovery completes after its restricted period (7 d / 10,000 ≈ 60 s); the pass lives 0.36 s at
  // this factor, so on a slow machine it may expire first, which is the decider's end as well.
  await until(async () => expect(['completed', 'expired']).toContain((await show())?.state), 150_000);
}, 420_000);
