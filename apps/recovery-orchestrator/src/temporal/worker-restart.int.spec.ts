import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { DEFAULT_RECOVERY_POLICY, type RecoveryPolicy } from '@tessera/recovery-domain';
import { recordEvidenceUpdate, recoveryStateQuery, recoveryStepUpdate, recoveryWorkflowId, type RecoveryStep, SEARCH_ATTRIBUTES, type StepActor } from '@tessera/recovery-workflows';
import { testInfra, uniqueName } from '@tessera/testing';
import { fakeActivities } from '../testing/fake-ports';
import { InMemoryLedger } from '../testing/in-memory-ledger';
import { quietTemporalLogs, until, workflowBundle } from '../testing/workflow-env';
import { temporalDataConverter } from './payload-codec';

/**
 * R3 on the real Temporal dev server: the worker is stopped during the cooling-off, the cooling-off
 * ends while no worker runs, and a new worker finishes the recovery correctly. The timer is the
 * server's, not the process's. (Timers here are seconds, from a test-only policy the decider runs as
 * any other; real policies cannot go below an hour of cooling-off.)
 */
const assisted = DEFAULT_RECOVERY_POLICY.kinds.assisted;
const FAST: RecoveryPolicy = {
  ...DEFAULT_RECOVERY_POLICY,
  policyVersion: 'r3-seconds',
  kinds: {
    ...DEFAULT_RECOVERY_POLICY.kinds,
    assisted: {
      ...assisted,
      coolingOff: { ...assisted.coolingOff, baseMs: 3_000, privilegedBaseMs: 3_000, maximumMs: 3_000, notifyBeforeCompletionMs: 1_000 },
      temporaryAccessPass: { lifetimeMs: 60_000, singleUse: true, enrolmentTimeoutMs: 60_000 },
      restrictedPeriodMs: 2_000,
    },
  },
};

const infra = testInfra();
// The service's own converter: the workflow's payloads are sealed across the restart as in production (S32).
const dataConverter = temporalDataConverter({ TESSERA_ENV: 'test' });
let client: Client;
let native: NativeConnection;

beforeAll(async () => {
  quietTemporalLogs();
  client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${infra.temporalPort}` }), namespace: infra.temporalNamespace, dataConverter });
  native = await NativeConnection.connect({ address: `127.0.0.1:${infra.temporalPort}` });
}, 60_000);
afterAll(async () => {
  await client?.connection.close();
  await native?.close();
});

it('R3: a worker stopped during the cooling-off; the cooling-off ends with no worker; a new worker completes the recovery, issuing the pass once and only after the cooling-off', async () => {
  const ledger = new InMemoryLedger(new Map([[FAST.policyVersion, FAST]]));
  const { activities, world } = fakeActivities(ledger);
  const taskQueue = uniqueName('recovery-r3');
  const newWorker = async () => Worker.create({ connection: native, namespace: infra.temporalNamespace, taskQueue, workflowBundle: await workflowBundle(), activities, dataConverter });

  const userId = `user-${randomUUID().slice(0, 8)}`;
  const recoveryId = randomUUID();
  ledger.request({
    type: 'RequestRecovery',
    data: { recoveryId, userId, subjectGroups: [], syntheticTestAccount: false, kind: 'assisted', requestedBy: { kind: 'helpdesk', id: 'agent-1', ticketReference: 'HD-3' }, riskSignals: [], lostFactorIds: [], accountFreeze: null, drillId: null },
    metadata: { now: new Date(), policy: FAST },
  });

  const first = await newWorker();
  const firstRun = first.run();
  const handle = await client.workflow.start('recoveryWorkflow', {
    taskQueue,
    workflowId: recoveryWorkflowId(userId),
    args: [{ recoveryId, userId, kind: 'assisted', policyVersion: FAST.policyVersion, drillId: null }],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.userId, value: userId },
      { key: SEARCH_ATTRIBUTES.kind, value: 'assisted' },
      { key: SEARCH_ATTRIBUTES.state, value: 'awaiting-evidence' },
    ],
  });
  const step = (actor: StepActor, body: RecoveryStep) => handle.executeUpdate(recoveryStepUpdate, { args: [{ actor, correlationId: 'r3', step: body }] });
  await handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: { kind: 'helpdesk', id: 'agent-1' }, correlationId: 'r3', verifier: { kind: 'helpdesk-attestation', reference: 'HD-3', attestedBy: 'agent-1', outcome: 'passed' } }] });
  await step({ kind: 'security-officer', id: 'officer-1' }, { type: 'ApproveRecovery', approverId: 'officer-1', approverRoles: ['security-officer'], reason: 'ok' });
  const cooling = await step({ kind: 'security-officer', id: 'officer-2' }, { type: 'ApproveRecovery', approverId: 'officer-2', approverRoles: ['security-officer'], reason: 'ok' });
  expect(cooling.status).toBe('cooling-off');

  // The worker goes away in the middle of the cooling-off.
  first.shutdown();
  await firstRun;
  const endsAt = Date.parse(cooling.coolingOffEndsAt!);
  await until(async () => expect(Date.now()).toBeGreaterThan(endsAt + 1_000), 30_000);
  expect((await ledger.view(recoveryId)).status).toBe('cooling-off');
  expect(world.auth.called('issueTemporaryAccessPass')).toHaveLength(0);

  // A new worker picks the recovery up where the server's timer left it.
  const second = await newWorker();
  await second.runUntil(async () => {
    const issued = await until(async () => {
      const view = await handle.query(recoveryStateQuery);
      expect(view?.status).toBe('pass-issued');
      return view!;
    });
    const auth: StepActor = { kind: 'service', id: 'auth-service' };
    await step(auth, { type: 'RedeemTemporaryAccessPass', passId: issued.passId! });
    await step(auth, { type: 'RecordEnrolment', passId: issued.passId!, factorId: 'factor-new', factorKind: 'totp' });
    expect(await handle.result()).toEqual({ recoveryId, status: 'completed' });
  });
  const events = ledger.events(recoveryId);
  const passes = events.filter((event) => event.type === 'TemporaryAccessPassIssued');
  expect(passes).toHaveLength(1);
  expect(Date.parse((passes[0].data as { issuedAt: string }).issuedAt)).toBeGreaterThanOrEqual(endsAt);
  expect(events.map((event) => event.type)).toEqual([
    'RecoveryRequested',
    'RecoveryEvidenceRecorded',
    'RecoveryApproved',
    'RecoveryApproved',
    'RecoveryCoolingOffStarted',
    'TemporaryAccessPassIssued',
    'TemporaryAccessPassRedeemed',
    'RecoveryFactorEnrolled',
    'RecoveryOldFactorsRevoked',
    'RecoveryCompleted',
  ]);
  expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('completed');
});
