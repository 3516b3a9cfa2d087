import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_RECOVERY_POLICY, type RequestRecovery } from '@tessera/recovery-domain';
import {
  decideIncidentUpdate,
  incidentStateQuery,
  incidentWorkflowId,
  recordEvidenceUpdate,
  recoveryStateQuery,
  recoveryStepUpdate,
  recoveryWorkflowId,
  type RecoveryStep,
  SEARCH_ATTRIBUTES,
  type StepActor,
} from '@tessera/recovery-workflows';
import { createSignedLink, generateLinkNonce, WASNT_ME_LINK_PURPOSE } from '@tessera/notifications';
import { randomBytes, randomUUID } from 'node:crypto';
import { testInfra } from '@tessera/testing';
import { fakeActivities, FakeNotifier } from '../testing/fake-ports';
import { InMemoryLedger } from '../testing/in-memory-ledger';
import { DAY, HELPDESK, HOUR, officer, runWorker, timeSkippingEnvironment, until, withOwnTimeSkippingServer } from '../testing/workflow-env';
import type { UserNotifierPort } from '../ports/ports';


let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnvironment(testInfra().temporalTestServer);
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

async function begin(ledger: InMemoryLedger, taskQueue: string, overrides: Partial<RequestRecovery['data']> = {}, on: TestWorkflowEnvironment = env) {
  const userId = overrides.userId ?? `user-${randomUUID()}`;
  const recoveryId = randomUUID();
  const kind = overrides.kind ?? 'assisted';
  ledger.request({
    type: 'RequestRecovery',
    data: {
      recoveryId,
      userId,
      subjectGroups: [],
      syntheticTestAccount: false,
      kind,
      requestedBy: { kind: 'helpdesk', id: HELPDESK.id, ticketReference: 'HD-1' },
      riskSignals: [],
      lostFactorIds: [],
      accountFreeze: null,
      drillId: null,
      ...overrides,
    },
    metadata: { now: new Date(await on.currentTimeMs()), policy: DEFAULT_RECOVERY_POLICY },
  });
  const handle = await on.client.workflow.start('recoveryWorkflow', {
    taskQueue,
    workflowId: recoveryWorkflowId(userId),
    args: [{ recoveryId, userId, kind, policyVersion: DEFAULT_RECOVERY_POLICY.policyVersion, drillId: null }],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.userId, value: userId },
      { key: SEARCH_ATTRIBUTES.kind, value: kind },
      { key: SEARCH_ATTRIBUTES.state, value: 'awaiting-evidence' },
    ],
  });
  const step = (actor: StepActor, body: RecoveryStep) => handle.executeUpdate(recoveryStepUpdate, { args: [{ actor, correlationId: 'test', step: body }] });
  const attest = () =>
    handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: HELPDESK, correlationId: 't', verifier: { kind: 'helpdesk-attestation', reference: 'HD-1', attestedBy: HELPDESK.id, outcome: 'passed' } }] });
  const approve = (n: number) => step(officer(n), { type: 'ApproveRecovery', approverId: officer(n).id, approverRoles: ['security-officer'], reason: 'verified' });
  return { handle, recoveryId, userId, step, attest, approve, state: () => handle.query(recoveryStateQuery) };
}

describe('break-glass recovery (time-skipping)', () => {
  it('pages on-call before anything else, needs three approvals, and keeps its post-incident review open, with reminders, until closed', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue, { kind: 'break-glass' });
      await until(async () => expect(ledger.events(r.recoveryId).map((event) => event.type)).toEqual(['RecoveryRequested', 'RecoveryOnCallPaged']));
      expect(world.pager.pages.map((page) => page.reason)).toEqual(['break-glass-recovery']);
      await r.attest();
      await r.approve(1);
      expect((await r.approve(2)).status).toBe('awaiting-approval');
      expect((await r.approve(3)).status).toBe('cooling-off');
      // Nobody enrols: the recovery expires, and the review stays open.
      await env.sleep(4 * HOUR + 1_000);
      await until(async () => expect((await r.state())?.status).toBe('pass-issued'));
      await env.sleep(HOUR + 1_000);
      await until(async () => expect((await r.state())).toMatchObject({ status: 'expired', review: 'open' }));
      const remindersBefore = world.pager.reminders.length;
      await env.sleep(3 * HOUR + 1_000);
      expect(world.pager.reminders.slice(remindersBefore).filter((reminder) => reminder.notice === 'post-incident-review-open').length).toBeGreaterThanOrEqual(3);
      expect((await r.handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('expired:review-open');
      // Nobody from the recovery reviews it; another officer does.
      await expect(r.step(officer(1), { type: 'ClosePostIncidentReview', reviewerId: HELPDESK.id, reviewerRoles: ['helpdesk'], findingsReference: 'PIR-1' })).rejects.toThrow();
      await r.step(officer(4), { type: 'ClosePostIncidentReview', reviewerId: officer(4).id, reviewerRoles: ['security-officer'], findingsReference: 'PIR-1' });
      expect(await r.handle.result()).toMatchObject({ status: 'expired' });
      expect(ledger.events(r.recoveryId).at(-1)?.type).toBe('PostIncidentReviewClosed');
    });
  });
});

describe('incident response (time-skipping)', () => {
  it('"this wasn\'t me" cancels the recovery and opens an incident: frozen in auth-service, on-call paged, the user told; an officer unfreezes', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    // The recovery opens its incident as an abandoned child workflow, after which the time-skipping
    // server skips time no more (testing/time-skipping-repro): this test gets a server of its own.
    await withOwnTimeSkippingServer(testInfra().temporalTestServer, (own) => runWorker(own, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue, {}, own);
      await r.attest();
      await r.approve(1);
      await r.approve(2);
      const expiresAt = new Date((await own.currentTimeMs()) + DAY).toISOString();
      const view = await r.step({ kind: 'user', id: r.userId }, { type: 'CancelRecovery', proof: { via: 'wasnt-me-link', link: { recoveryId: r.recoveryId, userId: r.userId, expiresAt } } });
      expect(view).toMatchObject({ status: 'cancelled', cancellation: { via: 'wasnt-me-link', incidentSuspected: true } });
      expect(await r.handle.result()).toMatchObject({ status: 'cancelled' });
      const incident = own.client.workflow.getHandle(incidentWorkflowId(r.userId));
      await until(async () => expect(await incident.query(incidentStateQuery)).toMatchObject({ status: 'frozen', onCallPaged: true }));
      expect(world.auth.called('freezeAccount')).toHaveLength(1);
      expect(world.pager.pages.map((page) => page.reason)).toContain('incident');
      expect(world.notifier.sent(r.userId)).toEqual(expect.arrayContaining(['recovery-cancelled', 'account-frozen']));
      // The subject cannot lift the freeze on their own account.
      await expect(
        incident.executeUpdate(decideIncidentUpdate, { args: [{ actor: { kind: 'user', id: r.userId }, actorRoles: ['security-officer'], correlationId: 't', decision: 'unfreeze', reason: 'me' }] }),
      ).rejects.toThrow();
      const after = await incident.executeUpdate(decideIncidentUpdate, {
        args: [{ actor: officer(1), actorRoles: ['security-officer'], correlationId: 't', decision: 'unfreeze', reason: 'the user clicked by mistake' }],
      });
      expect(after.status).toBe('unfrozen');
      expect(await incident.result()).toMatchObject({ status: 'unfrozen' });
      expect(world.auth.called('unfreezeAccount')).toHaveLength(1);
    }));
  });

  it('a freeze cancels the recovery under way (via account-frozen), and a decision can force one assisted recovery', async () => {
    const ledger = new InMemoryLedger();
    const { activities, world } = fakeActivities(ledger);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await r.attest();
      const incidentId = randomUUID();
      const incident = await env.client.workflow.start('incidentWorkflow', {
        taskQueue,
        workflowId: incidentWorkflowId(r.userId),
        args: [{ incidentId, userId: r.userId, source: 'security-team', reportedBy: { kind: 'security-officer', id: 'officer-1' }, recoveryId: null, deviceIds: ['device-1'], correlationId: 't' }],
      });
      expect(await r.handle.result()).toMatchObject({ status: 'cancelled' });
      expect(ledger.events(r.recoveryId).at(-1)).toMatchObject({ type: 'RecoveryCancelled', data: { via: 'account-frozen', incidentId } });
      await until(async () => expect(world.devices.revoked).toEqual(['device-1']));
      const forcedId = randomUUID();
      const decided = await incident.executeUpdate(decideIncidentUpdate, {
        args: [
          {
            actor: officer(2),
            actorRoles: ['security-officer'],
            correlationId: 't',
            decision: 'force-recovery',
            reason: 'attacker holds the phone',
            recovery: { recoveryId: forcedId, ticketReference: 'INC-1', lostFactorIds: [], subjectGroups: [] },
          },
        ],
      });
      expect(decided).toMatchObject({ status: 'recovery-forced', forcedRecoveryId: forcedId });
      expect(world.forced).toEqual([expect.objectContaining({ incidentId, recoveryId: forcedId, requestedBy: officer(2).id })]);
      // The incident ends through its own decision, not a terminate: a run terminated with a task in
      // flight keeps the time-skipping server from skipping time for every later test (testing/time-skipping-repro).
      const unfrozen = await incident.executeUpdate(decideIncidentUpdate, {
        args: [{ actor: officer(3), actorRoles: ['security-officer'], correlationId: 't', decision: 'unfreeze', reason: 'the forced recovery takes over' }],
      });
      expect(unfrozen.status).toBe('unfrozen');
      expect(await incident.result()).toMatchObject({ status: 'unfrozen' });
    });
  });
});

describe('S32: no secret enters workflow history', () => {
  it('S32: neither the pass nor the "this wasn\'t me" link token appears in any history (inputs, results, updates, memo, search attributes)', async () => {
    const ledger = new InMemoryLedger();
    const minted: string[] = [];
    const key = new Uint8Array(randomBytes(32));
    const recording = new FakeNotifier();
    // The notifier mints a real signed link inside the activity, as the production one does.
    const notifier: UserNotifierPort = {
      notify: async (input) => {
        minted.push(createSignedLink({ baseUrl: 'http://127.0.0.1/cancel', purpose: WASNT_ME_LINK_PURPOSE, subjectId: input.subjectId, expiresAt: new Date(Date.now() + DAY), nonce: generateLinkNonce() }, { currentKid: 'k1', keys: { k1: key } }).token);
        await recording.notify(input);
      },
    };
    const { activities, world } = fakeActivities(ledger, undefined, notifier);
    await runWorker(env, activities, async (taskQueue) => {
      const r = await begin(ledger, taskQueue);
      await r.attest();
      await r.approve(1);
      const cooling = await r.approve(2);
      await env.sleep(Date.parse(cooling.coolingOffEndsAt!) - (await env.currentTimeMs()) + 1_000);
      await until(async () => expect((await r.state())?.status).toBe('pass-issued'));
      const passId = (await r.state())!.passId!;
      await r.step({ kind: 'service', id: 'auth-service' }, { type: 'RedeemTemporaryAccessPass', passId });
      await r.step({ kind: 'service', id: 'auth-service' }, { type: 'RecordEnrolment', passId, factorId: 'factor-new', factorKind: 'totp' });
      await env.sleep(8 * DAY);
      await r.handle.result();
      const history = JSON.stringify((await r.handle.fetchHistory()).events);
      expect(world.auth.passSecrets.length).toBeGreaterThan(0);
      expect(minted.length).toBeGreaterThan(0);
      for (const secret of [...world.auth.passSecrets, ...minted, ...minted.map((token) => token.split('.')[3])]) {
        expect(history).not.toContain(secret);
        expect(history).not.toContain(Buffer.from(secret).toString('base64'));
      }
      expect(history).not.toContain('subject@example.org');
    });
  });
});
