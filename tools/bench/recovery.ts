/**
 * bench:recovery — recovery workflows on the Temporal dev server (infra/local/platform infra):
 *  1. start rate: RECOVERY_BENCH_COUNT (default 10,000) recovery workflows started through the client,
 *     RECOVERY_BENCH_CONCURRENCY (default 64) at a time: starts/s and the p99 start latency;
 *  2. the same recoveries then all wait in their cooling-off (a 24 h durable timer each), and the
 *     worker's resident memory is sampled while they wait: it must stay flat (Temporal keeps the
 *     timers; the worker keeps at most its sticky cache).
 * The starts are measured first, with no worker polling; then a worker in a child process (this file
 * with --worker, so its memory is measured alone) takes every recovery to its wait. Its
 * activities answer as the event store would for a recovery in cooling-off; they do no other I/O.
 * Every workflow has a run timeout, so the server discards them by itself afterwards.
 * Last line: {"bench":"recovery","starts_per_s":…,"start_p99_ms":…,"waiting":…,"worker_rss_growth_pct":…}
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { RECOVERY_WORKFLOWS_PATH, type RecoveryActivities, type RecoveryView, recoveryWorkflowId, SEARCH_ATTRIBUTES } from '@tessera/recovery-workflows';
import { round, summarise } from './stats';

const ADDRESS = `127.0.0.1:${process.env.TESSERA_TEMPORAL_PORT ?? 7233}`;
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'tessera';
const COUNT = Number(process.env.RECOVERY_BENCH_COUNT ?? 10_000);
const CONCURRENCY = Number(process.env.RECOVERY_BENCH_CONCURRENCY ?? 64);
const QUIET_SECONDS = Number(process.env.RECOVERY_BENCH_QUIET_SECONDS ?? 60);
const HOUR = 3_600_000;

/** A recovery in cooling-off, as the ledger would answer for it. */
function coolingOffView(recoveryId: string, userId: string): RecoveryView {
  const endsAt = new Date(Date.now() + 24 * HOUR).toISOString();
  return {
    recoveryId,
    userId,
    kind: 'assisted',
    status: 'cooling-off',
    policyVersion: 'default-1',
    next: { kind: 'wait', waitingFor: 'cooling-off', until: endsAt, onDeadline: 'issue-pass', reminders: [new Date(Date.now() + 18 * HOUR).toISOString()] },
    approvals: 2,
    requiredApprovals: 2,
    passId: null,
    passRedeemed: false,
    passLifetimeMs: HOUR,
    coolingOffEndsAt: endsAt,
    review: 'not-required',
    reviewReminderIntervalMs: 24 * HOUR,
    drillId: null,
    cancellation: null,
    toRevoke: { passId: null, factorIds: [] },
    revokedFactorIds: [],
  };
}

async function runWorker(taskQueue: string): Promise<void> {
  const { NativeConnection, Runtime, DefaultLogger, Worker } = await import('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  let notices = 0;
  const views = new Map<string, RecoveryView>();
  const view = (recoveryId: string, userId = 'bench') => views.get(recoveryId) ?? coolingOffView(recoveryId, userId);
  const never = async (): Promise<never> => {
    throw new Error('not expected while cooling off');
  };
  const activities: RecoveryActivities = {
    loadRecovery: async ({ recoveryId }) => view(recoveryId),
    applyRecoveryStep: never,
    verifyIdentity: never,
    issueTemporaryAccessPass: never,
    revokeTemporaryAccessPass: never,
    listFactorIds: never,
    revokeFactors: never,
    freezeAccount: never,
    unfreezeAccount: never,
    revokeDevices: never,
    pageOnCall: never,
    notifyUser: async () => {
      notices += 1;
    },
    notifyStaff: never,
    loadIncident: never,
    applyIncidentStep: never,
    startForcedRecovery: never,
    startDrillRecovery: never,
    driveDrillRecovery: never,
    recordDrillOutcome: never,
  };
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: ADDRESS }),
    namespace: NAMESPACE,
    taskQueue,
    workflowsPath: RECOVERY_WORKFLOWS_PATH,
    activities,
    maxCachedWorkflows: 1000,
  });
  const report = setInterval(() => process.send?.({ notices, rss: process.memoryUsage().rss }), 1_000);
  process.on('message', (message: unknown) => {
    if (message === 'stop') {
      clearInterval(report);
      worker.shutdown();
    }
  });
  process.send?.({ ready: true });
  await worker.run();
  process.exit(0);
}

/** Resident memory of a process, from /proc (what the operating system charges it). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

async function main(): Promise<void> {
  const taskQueue = `bench-recovery-${randomUUID().slice(0, 8)}`;
  const client = new Client({ connection: await Connection.connect({ address: ADDRESS }), namespace: NAMESPACE });
  const latencies: number[] = [];
  const rssSamples: { atS: number; rssMb: number }[] = [];
  const began = Date.now();

  let next = 0;
  const run = `${Date.now().toString(36)}`;
  async function starter(): Promise<void> {
    while (next < COUNT) {
      const index = next++;
      const userId = `bench-${run}-${index}`;
      const t0 = performance.now();
      await client.workflow.start('recoveryWorkflow', {
        taskQueue,
        workflowId: recoveryWorkflowId(userId),
        args: [{ recoveryId: randomUUID(), userId, kind: 'assisted', policyVersion: 'default-1', drillId: null }],
        workflowRunTimeout: '30 minutes',
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.userId, value: userId },
          { key: SEARCH_ATTRIBUTES.kind, value: 'assisted' },
          { key: SEARCH_ATTRIBUTES.state, value: 'cooling-off' },
        ],
        memo: { reason: 'bench:recovery', policyVersion: 'default-1' },
      });
      latencies.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, starter));
  const startSeconds = (Date.now() - began) / 1000;
  const starts = summarise(latencies);
  console.log(`started ${COUNT} recoveries in ${round(startSeconds, 1)} s: ${round(COUNT / startSeconds, 1)} starts/s; start latency p50 ${round(starts.p50, 1)} ms, p99 ${round(starts.p99, 1)} ms`);

  // Phase 2: a worker takes them all to their cooling-off wait.
  const workerBegan = Date.now();
  const child = fork(__filename, ['--worker', taskQueue], { execArgv: ['-r', '@swc-node/register', '--disable-warning=TimeoutNegativeWarning'] });
  let notices = 0;
  await new Promise<void>((resolve, reject) => {
    child.on('message', (message: { ready?: boolean; notices?: number }) => {
      if (message.ready) resolve();
      if (message.notices !== undefined) notices = message.notices;
    });
    child.once('exit', (code) => reject(new Error(`the worker exited with ${code}`)));
  });

  const sampler = setInterval(() => rssSamples.push({ atS: round((Date.now() - workerBegan) / 1000, 1), rssMb: round(rssOf(child.pid!) / 1048576, 1) }), 5_000);

  // Every recovery sends its two notices (requested, cooling-off started) before it waits on its timer.
  const deadline = Date.now() + 15 * 60_000;
  while (notices < 2 * COUNT && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1_000));
  const waiting = Math.floor(notices / 2);
  const settledAt = round((Date.now() - workerBegan) / 1000, 1);
  console.log(`${waiting} recoveries waiting in cooling-off after ${settledAt} s`);
  const quietFrom = rssOf(child.pid!);
  const quiet: number[] = [];
  for (let second = 0; second < QUIET_SECONDS; second += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    quiet.push(rssOf(child.pid!));
  }
  clearInterval(sampler);
  const quietTo = quiet[quiet.length - 1] ?? quietFrom;
  const growthPct = round(((quietTo - quietFrom) / quietFrom) * 100, 1);
  console.log('worker RSS over time (s, MB):', rssSamples.map((sample) => `${sample.atS}:${sample.rssMb}`).join(' '));
  console.log(`worker RSS while ${waiting} wait: ${round(quietFrom / 1048576, 1)} MB → ${round(quietTo / 1048576, 1)} MB over ${QUIET_SECONDS} s (${growthPct}%)`);

  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  await client.connection.close();
  console.log(
    JSON.stringify({
      bench: 'recovery',
      starts_per_s: round(COUNT / startSeconds, 1),
      start_p99_ms: round(starts.p99, 1),
      waiting,
      worker_rss_growth_pct: growthPct,
      worker_rss_mb: round(quietTo / 1048576, 1),
      start_p50_ms: round(starts.p50, 1),
    }),
  );
}

if (process.argv[2] === '--worker') {
  runWorker(process.argv[3]).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
