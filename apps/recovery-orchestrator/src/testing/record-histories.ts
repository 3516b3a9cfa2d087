// Records the histories the R4 replay test replays: every workflow type through its main paths, run on
// the time-skipping test server with the real workflows and activities over an in-memory ledger.
// Run after a deliberate, compatible change of workflow code (and say so in the change):
//   node -r @swc-node/register apps/recovery-orchestrator/src/testing/record-histories.ts
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { DEFAULT_RECOVERY_POLICY, type RecoveryPolicy } from '@tessera/recovery-domain';
import {
  decideIncidentUpdate,
  incidentWorkflowId,
  recordEvidenceUpdate,
  RECOVERY_HISTORIES_DIR,
  recoveryStateQuery,
  recoveryStepUpdate,
  recoveryWorkflowId,
  type RecoveryStep,
  SEARCH_ATTRIBUTES,
  type StepActor,
} from '@tessera/recovery-workflows';
import { DRILL, drillRunner } from './fake-drill-runner';
import { fakeActivities } from './fake-ports';
import { InMemoryLedger } from './in-memory-ledger';
import { DAY, HELPDESK, HOUR, officer, runWorker, timeSkippingEnvironment, until } from './workflow-env';


async function main(): Promise<void> {
  const env = await timeSkippingEnvironment(resolve(__dirname, '../../../../.local/venv/bin/temporal-test-server'));
  const ledger = new InMemoryLedger(new Map<string, RecoveryPolicy>([[DEFAULT_RECOVERY_POLICY.policyVersion, DEFAULT_RECOVERY_POLICY], [DRILL.policyVersion, DRILL]]));
  const drills = drillRunner(env, ledger);
  const { activities } = fakeActivities(ledger, drills);
  const out = RECOVERY_HISTORIES_DIR;
  mkdirSync(out, { recursive: true });
  const save = async (name: string, workflowId: string) => {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(join(out, `${name}.json`), `${JSON.stringify({ workflowId, history: historyToPlainJson(history) }, null, 1)}\n`);
  };

  await runWorker(env, activities, async (taskQueue) => {
    const begin = async (kind: 'assisted' | 'break-glass') => {
      const userId = `user-${randomUUID().slice(0, 8)}`;
      const recoveryId = randomUUID();
      ledger.request({
        type: 'RequestRecovery',
        data: { recoveryId, userId, subjectGroups: [], syntheticTestAccount: false, kind, requestedBy: { kind: 'helpdesk', id: HELPDESK.id, ticketReference: 'HD-1' }, riskSignals: ['new-device'], lostFactorIds: [], accountFreeze: null, drillId: null },
        metadata: { now: new Date(await env.currentTimeMs()), policy: DEFAULT_RECOVERY_POLICY },
      });
      const handle = await env.client.workflow.start('recoveryWorkflow', {
        taskQueue,
        workflowId: recoveryWorkflowId(userId),
        args: [{ recoveryId, userId, kind, policyVersion: DEFAULT_RECOVERY_POLICY.policyVersion, drillId: null }],
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.userId, value: userId },
          { key: SEARCH_ATTRIBUTES.kind, value: kind },
          { key: SEARCH_ATTRIBUTES.state, value: 'awaiting-evidence' },
        ],
        memo: { recoveryId, reason: 'recorded for replay', policyVersion: DEFAULT_RECOVERY_POLICY.policyVersion },
      });
      const step = (actor: StepActor, body: RecoveryStep) =>
        handle.executeUpdate(recoveryStepUpdate, { args: [{ actor, correlationId: 'record', step: body }] });
      const attest = () =>
        handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: HELPDESK, correlationId: 'record', verifier: { kind: 'helpdesk-attestation', reference: 'HD-1', attestedBy: HELPDESK.id, outcome: 'passed' } }] });
      const approve = (n: number) => step(officer(n), { type: 'ApproveRecovery', approverId: officer(n).id, approverRoles: ['security-officer'], reason: 'verified' });
      return { handle, userId, recoveryId, step, attest, approve };
    };

    // 0. A drill, end to end. First: the steps below skip days, and a drill starts its recovery as a child
    //    workflow, after which this server skips time no more (time-skipping-repro/repro.ts); so does 4.
    const drill = await env.client.workflow.start('drillWorkflow', { taskQueue, workflowId: `drill-${randomUUID()}`, args: [{ drillId: randomUUID() }] });
    await drill.result();
    await save('drill-succeeded', drill.workflowId);

    // 1. Assisted, end to end.
    const a = await begin('assisted');
    await a.attest();
    await a.approve(1);
    const cooling = await a.approve(2);
    await env.sleep(Date.parse(cooling.coolingOffEndsAt!) - (await env.currentTimeMs()) + 1_000);
    const passId = await until(async () => {
      const view = await a.handle.query(recoveryStateQuery);
      if (view?.status !== 'pass-issued') throw new Error('waiting');
      return view.passId as string;
    });
    await a.step({ kind: 'service', id: 'auth-service' }, { type: 'RedeemTemporaryAccessPass', passId });
    await a.step({ kind: 'service', id: 'auth-service' }, { type: 'RecordEnrolment', passId, factorId: 'factor-new', factorKind: 'webauthn' });
    await env.sleep(8 * DAY);
    await a.handle.result();
    await save('recovery-assisted-completed', a.handle.workflowId);

    // 2. Assisted, expired waiting for approvals.
    const e = await begin('assisted');
    await e.attest();
    await env.sleep(4 * DAY);
    await e.handle.result();
    await save('recovery-assisted-expired', e.handle.workflowId);

    // 3. Break-glass, rejected, review closed after reminders.
    const b = await begin('break-glass');
    await until(async () => {
      if (ledger.events(b.recoveryId).length < 2) throw new Error('waiting for the page');
    });
    await b.attest();
    await b.approve(1);
    await b.step(officer(2), { type: 'RejectRecovery', officerId: officer(2).id, officerRoles: ['security-officer'], reason: 'not convinced' });
    await env.sleep(3 * HOUR);
    await b.step(officer(4), { type: 'ClosePostIncidentReview', reviewerId: officer(4).id, reviewerRoles: ['security-officer'], findingsReference: 'PIR-1' });
    await b.handle.result();
    await save('recovery-break-glass-rejected-reviewed', b.handle.workflowId);

    // 4. "This wasn't me": cancelled, and the incident it opens (a child), then unfrozen.
    const c = await begin('assisted');
    await c.attest();
    await c.approve(1);
    await c.approve(2);
    await c.step({ kind: 'user', id: c.userId }, {
      type: 'CancelRecovery',
      proof: { via: 'wasnt-me-link', link: { recoveryId: c.recoveryId, userId: c.userId, expiresAt: new Date((await env.currentTimeMs()) + DAY).toISOString() } },
    });
    await c.handle.result();
    await save('recovery-cancelled-wasnt-me', c.handle.workflowId);
    const incident = env.client.workflow.getHandle(incidentWorkflowId(c.userId));
    await until(async () => {
      const state = await incident.query('incidentState');
      if ((state as { onCallPaged?: boolean } | null)?.onCallPaged !== true) throw new Error('waiting');
    });
    await incident.executeUpdate(decideIncidentUpdate, {
      args: [{ actor: officer(5), actorRoles: ['security-officer'], correlationId: 'record', decision: 'force-recovery', reason: 'recover it properly', recovery: { recoveryId: randomUUID(), ticketReference: 'INC-1', lostFactorIds: [], subjectGroups: [] } }],
    });
    await incident.executeUpdate(decideIncidentUpdate, { args: [{ actor: officer(5), actorRoles: ['security-officer'], correlationId: 'record', decision: 'unfreeze', reason: 'recovered' }] });
    await incident.result();
    await save('incident-forced-then-unfrozen', incident.workflowId);

  });
  await env.teardown();
  process.stdout.write(`histories written to ${out}\n`);
}

/** The history as plain JSON (64-bit integers as strings, bytes as base64), read back with `History.fromObject`. */
function historyToPlainJson(history: temporal.api.history.v1.IHistory): unknown {
  const { History } = temporal.api.history.v1;
  return History.toObject(History.fromObject(history), { longs: String, bytes: String, enums: Number });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
