import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_RECOVERY_POLICY, type RequestRecovery } from '@tessera/recovery-domain';
import {
  recordEvidenceUpdate,
  recoveryStateQuery,
  recoveryStepUpdate,
  recoveryWorkflowId,
  SEARCH_ATTRIBUTES,
  type HumanStep,
  type RecoveryStep,
  type StepActor,
} from '@tessera/recovery-workflows';
import { randomUUID } from 'node:crypto';
import { testInfra } from '@tessera/testing';
import { fakeActivities } from '../testing/fake-ports';
import { InMemoryLedger } from '../testing/in-memory-ledger';
import { DAY, HELPDESK, HOUR, officer, runWorker, terminateWhenIdle, timeSkippingEnvironment, until } from '../testing/workflow-env';


let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnvironment(testInfra().temporalTestServer);
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

async function now(): Promise<Date> {
  return new Date(await env.currentTimeMs());
}

/** A recovery stored and its workflow started, as the starter does it. */
async function begin(ledger: InMemoryLedger, taskQueue: string, overrides: Partial<RequestRecovery['data']> = {}) {
  const userId = `user-${randomUUID()}`;
  const recoveryId = randomUUID();
  const data: RequestRecovery['data'] = {
    recoveryId,
    userId,
    subjectGroups: [],
    syntheticTestAccount: false,
    kind: 'assisted',
    requestedBy: { kind: 'helpdesk', id: HELPDESK.id, ticketReference: 'HD-1' },
    riskSignals: [],
    lostFactorIds: ['factor-old-totp'],
    accountFreeze: null,
    drillId: null,
    ...overrides,
  };
  ledger.request({ type: 'RequestRecovery', data: { ...data, recoveryId, userId: overrides.userId ?? userId }, metadata: { now: await now(), policy: DEFAULT_RECOVERY_POLICY } });
  const subject = overrides.userId ?? userId;
  const handle = await env.client.workflow.start('recoveryWorkflow', {
    taskQueue,
    workflowId: recoveryWorkflowId(subject),
    args: [{ recoveryId, userId: subject, kind: data.kind, policyVersion: DEFAULT_RECOVERY_POLICY.policyVersion, drillId: null }],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.userId, value: subject },
      { key: SEARCH_ATTRIBUTES.kind, value: data.kind },
      { key: SEARCH_ATTRIBUTES.state, value: 'awaiting-evidence' },
    ],
  });
  const step = (actor: StepActor, body: RecoveryStep) => handle.executeUpdate(recoveryStepUpdate, { args: [{ actor, correlationId: 'test', step: body } satisfies HumanStep] });
  const attest = (outcome: 'passed' | 'failed' = 'passed') =>
    handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: HELPDESK, correlationId: 'test', verifier: { kind: 'helpdesk-attestation', reference: 'HD-1', attestedBy: HELPDESK.id, outcome } }] });
  const approve = (n: number) => step(officer(n), { type: 'ApproveRecovery', approverId: officer(n).id, approverRoles: ['security-officer'], reason: 'video call' });
  const state = () => handle.query(recoveryStateQuery);
  return { handle, recoveryId, userId: subject, step, attest, approve, state };
}

describe('recovery workflow (time-skipping)', () => {
  it('S25 S22: runs an assisted recovery end to end: evidence, 2-of-n approvals, cooling-off, pass, enrolment, revocation (told before it happens), restricted period, completion', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    // S22: how many factors were already revoked when the user was told of the revocation.
    let revokedWhenTold: number | undefined;
    const notify = world.notifier.notify.bind(world.notifier);
    world.notifier.notify = async (input) => {
      if (input.notice === 'recovery-factors-revoked') revokedWhenTold ??= world.auth.called('revokeCredential').length;
      return notify(input);
    };
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await r.attest();
      expect((await r.approve(1)).status).toBe('awaiting-approval');
      const cooling = await r.approve(2);
      expect(cooling).toMatchObject({ status: 'cooling-off', approvals: 2 });
      // Nothing is issued during the cooling-off: skip to just before its end.
      await env.sleep(Date.parse(cooling.coolingOffEndsAt!) - (await env.currentTimeMs()) - 60_000);
      expect(world.auth.called('issueTemporaryAccessPass')).toHaveLength(0);
      await env.sleep(2 * 60_000);
      await until(async () => expect((await r.state())?.status).toBe('pass-issued'));
      const { passId } = (await r.state())!;
      await r.step({ kind: 'service', id: 'auth-service' }, { type: 'RedeemTemporaryAccessPass', passId: passId! });
      await r.step({ kind: 'service', id: 'auth-service' }, { type: 'RecordEnrolment', passId: passId!, factorId: 'factor-new-key', factorKind: 'webauthn' });
      await until(async () => expect((await r.state())?.status).toBe('restricted'));
      expect(world.auth.called('revokeCredential').map((call) => (call as { credentialId: string }).credentialId).sort()).toEqual(['factor-old-key', 'factor-old-totp']);
      // Told first, while the channels being revoked could still carry the notice.
      expect(revokedWhenTold).toBe(0);
      await env.sleep(7 * DAY);
      expect(await r.handle.result()).toEqual({ recoveryId: r.recoveryId, status: 'completed' });
      expect(world.notifier.sent()).toEqual([
        'recovery-requested',
        'recovery-cooling-off-started',
        'recovery-completes-soon',
        'recovery-pass-issued',
        'recovery-factors-revoked',
        'recovery-completed',
      ]);
      // S22: both cooling-off notices tell the user when the recovery completes unless cancelled.
      for (const notice of ['recovery-cooling-off-started', 'recovery-completes-soon']) {
        expect(world.notifier.notices.find((sent) => sent.notice === notice)?.endsAt?.toISOString()).toBe(cooling.coolingOffEndsAt);
      }
      const description = await r.handle.describe();
      expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('completed');
    });
  });
});

/** The decider's refusal as the caller of an update sees it. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const details = (error as { cause?: { details?: unknown[] } }).cause?.details;
    return String(details?.[0] ?? (error as Error).message);
  }
  throw new Error('expected the step to be refused');
}

async function coolingOff(r: Awaited<ReturnType<typeof begin>>) {
  await r.attest();
  await r.approve(1);
  return r.approve(2);
}

async function toPassIssued(r: Awaited<ReturnType<typeof begin>>) {
  const cooling = await coolingOff(r);
  await env.sleep(Date.parse(cooling.coolingOffEndsAt!) - (await env.currentTimeMs()) + 1_000);
  return until(async () => {
    const view = await r.state();
    expect(view?.status).toBe('pass-issued');
    return view!;
  });
}

describe('every wait has a timeout', () => {
  it('expires when no evidence arrives within the evidence timeout', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await env.sleep(72 * HOUR + 1_000);
      expect(await r.handle.result()).toMatchObject({ status: 'expired' });
      expect(ledger.events(r.recoveryId).at(-1)).toMatchObject({ type: 'RecoveryExpired', data: { stage: 'evidence' } });
      expect(world.notifier.sent()).toEqual(['recovery-requested', 'recovery-expired']);
    });
  });

  it('expires when quorum is not reached by the approval deadline, reminding approvers on the way', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await r.attest();
      await r.approve(1);
      await env.sleep(72 * HOUR + 1_000);
      expect(await r.handle.result()).toMatchObject({ status: 'expired' });
      expect(ledger.events(r.recoveryId).at(-1)).toMatchObject({ type: 'RecoveryExpired', data: { stage: 'approval' } });
      // Reminders every 24 h inside the 72 h approval window: at 24 h and 48 h.
      expect(world.pager.reminders.filter((reminder) => reminder.notice === 'approval-pending')).toHaveLength(2);
      expect(world.pager.pages).toHaveLength(0); // a reminder is not a page
    });
  });

  it('expires when the pass lapses unused, and takes the pass back', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const issued = await toPassIssued(r);
      await env.sleep(HOUR + 1_000);
      expect(await r.handle.result()).toMatchObject({ status: 'expired' });
      expect(ledger.events(r.recoveryId).at(-1)).toMatchObject({ type: 'RecoveryExpired', data: { stage: 'enrolment', passExpiredUnused: true } });
      expect(world.auth.called('revokeTemporaryAccessPass')).toEqual([expect.objectContaining({ passId: issued.passId })]);
    });
  });

  it('expires when the redeemed pass is not used to enrol before the enrolment deadline', async () => {
    const ledger = new InMemoryLedger();
    const { activities } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const issued = await toPassIssued(r);
      await r.step({ kind: 'service', id: 'auth-service' }, { type: 'RedeemTemporaryAccessPass', passId: issued.passId! });
      await env.sleep(2 * HOUR + 1_000);
      expect(await r.handle.result()).toMatchObject({ status: 'expired' });
      expect(ledger.events(r.recoveryId).at(-1)).toMatchObject({ type: 'RecoveryExpired', data: { stage: 'enrolment', passExpiredUnused: false } });
    });
  });
});

describe('rejections', () => {
  it('an officer rejecting with a reason ends the recovery as rejected', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await r.attest();
      await r.approve(1);
      await r.step(officer(2), { type: 'RejectRecovery', officerId: officer(2).id, officerRoles: ['security-officer'], reason: 'caller failed the video check' });
      expect(await r.handle.result()).toMatchObject({ status: 'rejected' });
      expect(world.auth.called('issueTemporaryAccessPass')).toHaveLength(0);
      expect(world.notifier.sent()).toContain('recovery-rejected');
    });
  });

  it('failed identity evidence ends it as rejected', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    world.verifier.outcomes.set('idv-77', 'failed');
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const view = await r.handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: HELPDESK, correlationId: 't', verifier: { kind: 'idv-webhook', reference: 'idv-77' } }] });
      expect(view.status).toBe('rejected');
      expect(await r.handle.result()).toMatchObject({ status: 'rejected' });
    });
  });

  it('an unknown identity-verification check is refused and nothing is recorded', async () => {
    const ledger = new InMemoryLedger();
    const { activities } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      expect(await refusal(r.handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: HELPDESK, correlationId: 't', verifier: { kind: 'idv-webhook', reference: 'nope' } }] }))).toBe('idv_check_unknown');
      expect((await r.state())?.status).toBe('awaiting-evidence');
      await terminateWhenIdle(r.handle);
    });
  });
});

describe('S25 approvals', () => {
  it('S25: the subject, the requester and the attester cannot approve; a role outside the policy cannot; each officer votes once', async () => {
    const ledger = new InMemoryLedger();
    const { activities } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue, { requestedBy: { kind: 'helpdesk', id: 'officer-9', ticketReference: 'HD-2' } });
      await r.attest();
      const vote = (id: string, roles = ['security-officer']) => r.step({ kind: 'security-officer', id }, { type: 'ApproveRecovery', approverId: id, approverRoles: roles, reason: 'ok' });
      expect(await refusal(vote(r.userId))).toBe('approver_is_subject');
      expect(await refusal(vote('officer-9'))).toBe('approver_is_requester');
      expect(await refusal(vote(HELPDESK.id))).toBe('approver_is_attester');
      expect(await refusal(vote('officer-1', ['helpdesk']))).toBe('approver_role_not_allowed');
      await vote('officer-1');
      expect(await refusal(vote('officer-1'))).toBe('duplicate_vote');
      expect(await r.state()).toMatchObject({ status: 'awaiting-approval', approvals: 1 });
      await terminateWhenIdle(r.handle);
    });
  });

  it('S25: twenty parallel votes by one officer count once', async () => {
    const ledger = new InMemoryLedger();
    const { activities } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await r.attest();
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => r.approve(1)));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(await r.state()).toMatchObject({ approvals: 1, status: 'awaiting-approval' });
      await terminateWhenIdle(r.handle);
    });
  });

  it('S25: the pass is this recovery\'s, single use, and refused once expired', async () => {
    const ledger = new InMemoryLedger();
    const { activities } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const issued = await toPassIssued(r);
      const auth: StepActor = { kind: 'service', id: 'auth-service' };
      expect(await refusal(r.step(auth, { type: 'RedeemTemporaryAccessPass', passId: randomUUID() }))).toBe('pass_unknown');
      const parallel = await Promise.allSettled(Array.from({ length: 10 }, () => r.step(auth, { type: 'RedeemTemporaryAccessPass', passId: issued.passId! })));
      expect(parallel.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(await refusal(r.step(auth, { type: 'RedeemTemporaryAccessPass', passId: issued.passId! }))).toBe('pass_already_used');
      await terminateWhenIdle(r.handle);
    });
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const issued = await toPassIssued(r);
      // Past the pass's life the workflow expires the recovery; a late redemption is refused either way.
      await env.sleep(HOUR + 1_000);
      await r.handle.result();
      expect(await refusal(r.step({ kind: 'service', id: 'auth-service' }, { type: 'RedeemTemporaryAccessPass', passId: issued.passId! }))).toMatch(/recovery_terminal|not found|completed/);
    });
  });
});

describe('cancellation: a cancel that arrives before completion always wins', () => {
  const stepUp = (userId: string, at: Date): RecoveryStep => ({
    type: 'CancelRecovery',
    proof: { via: 'step-up', stepUp: { userId, factorId: 'factor-old-key', method: 'webauthn', verifiedAt: at.toISOString() } },
  });

  it('S25: the subject cancels during the cooling-off with a remaining factor; no pass is ever issued', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await coolingOff(r);
      await env.sleep(6 * HOUR);
      const view = await r.step({ kind: 'user', id: r.userId }, stepUp(r.userId, await now()));
      expect(view.status).toBe('cancelled');
      await env.sleep(10 * DAY);
      expect(await r.handle.result()).toMatchObject({ status: 'cancelled' });
      expect(world.auth.called('issueTemporaryAccessPass')).toHaveLength(0);
      expect(world.notifier.sent()).toContain('recovery-cancelled');
    });
  });

  it('S25: a cancel that arrives while the pass is being issued wins, and the pass is taken back', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    let release!: () => void;
    world.auth.holdIssue = new Promise<void>((resolve) => (release = resolve));
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const cooling = await coolingOff(r);
      await env.sleep(Date.parse(cooling.coolingOffEndsAt!) - (await env.currentTimeMs()) + 1_000);
      await until(async () => expect(world.auth.called('issueTemporaryAccessPass')).toHaveLength(1));
      const cancelled = await r.step({ kind: 'user', id: r.userId }, stepUp(r.userId, await now()));
      expect(cancelled.status).toBe('cancelled');
      release();
      expect(await r.handle.result()).toMatchObject({ status: 'cancelled' });
      expect(ledger.journal.map((entry) => `${entry.step}:${entry.outcome}`)).toContain('IssueTemporaryAccessPass:recovery_terminal');
      expect(world.auth.called('revokeTemporaryAccessPass')).toHaveLength(1);
      expect(ledger.events(r.recoveryId).map((event) => event.type)).not.toContain('TemporaryAccessPassIssued');
    });
  });

  it('S25: a cancel in the restricted period, before completion, wins and takes back the factors enrolled; after completion it is refused', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const issued = await toPassIssued(r);
      const auth: StepActor = { kind: 'service', id: 'auth-service' };
      await r.step(auth, { type: 'RedeemTemporaryAccessPass', passId: issued.passId! });
      await r.step(auth, { type: 'RecordEnrolment', passId: issued.passId!, factorId: 'factor-attacker-key', factorKind: 'webauthn' });
      await until(async () => expect((await r.state())?.status).toBe('restricted'));
      await env.sleep(7 * DAY - HOUR);
      expect((await r.step({ kind: 'user', id: r.userId }, stepUp(r.userId, await now()))).status).toBe('cancelled');
      expect(await r.handle.result()).toMatchObject({ status: 'cancelled' });
      expect(world.auth.called('revokeCredential')).toContainEqual(expect.objectContaining({ credentialId: 'factor-attacker-key' }));
    });
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      const issued = await toPassIssued(r);
      const auth: StepActor = { kind: 'service', id: 'auth-service' };
      await r.step(auth, { type: 'RedeemTemporaryAccessPass', passId: issued.passId! });
      await r.step(auth, { type: 'RecordEnrolment', passId: issued.passId!, factorId: 'factor-new', factorKind: 'totp' });
      await env.sleep(8 * DAY);
      expect(await r.handle.result()).toMatchObject({ status: 'completed' });
      expect(await refusal(r.step({ kind: 'user', id: r.userId }, stepUp(r.userId, await now())))).toMatch(/recovery_terminal|completed|not found/);
    });
  });

  it('a stale step-up is refused and the recovery goes on', async () => {
    const ledger = new InMemoryLedger();
    const { activities } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await coolingOff(r);
      expect(await refusal(r.step({ kind: 'user', id: r.userId }, stepUp(r.userId, new Date((await env.currentTimeMs()) - HOUR))))).toBe('step_up_stale');
      expect(await refusal(r.step({ kind: 'user', id: 'someone-else' }, stepUp('someone-else', await now())))).toBe('step_up_not_subject');
      expect((await r.state())?.status).toBe('cooling-off');
      await terminateWhenIdle(r.handle);
    });
  });
});
