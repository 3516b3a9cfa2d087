import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { NextDeadline } from '@tessera/recovery-domain';
import { DOMAIN_ERROR_TYPE, type RecoveryActivities } from './recovery.activities';
import {
  accountFrozenSignal,
  drillPassIssuedSignal,
  type EvidenceInput,
  type HumanStep,
  incidentWorkflowId,
  type RecoveryNotice,
  type RecoveryOutcome,
  recordEvidenceUpdate,
  recoveryStateQuery,
  recoveryStepUpdate,
  type RecoveryStep,
  type RecoveryView,
  type RecoveryWorkflowInput,
  SEARCH_ATTRIBUTES,
  type StepActor,
  TERMINAL_RECOVERY_STATUSES,
} from './recovery.messages';
import { incidentWorkflow } from './incident.workflow';
import { domainRefusal, refusal, rethrowAsRefusal, Serial } from './workflow-support';

/** The decider and the event store: quick, and a refusal is final. */
const decisions = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});
/**
 * auth-service, notifications, the pager: retried until they answer. A recovery does not move on
 * until the user has been told (S22) and the factors it revokes are revoked (S23).
 */
const effects = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});

/** Staff reminders are best effort: a pager outage must not hold up a deadline (an approval timeout, say). */
const staff = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});

/**
 * The first look: the request is committed in the transaction that started this workflow, so for a
 * moment it may not be visible yet; if it never appears, that transaction rolled back.
 */
const firstLook = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 8, nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});

const SYSTEM: StepActor = { kind: 'system', id: 'recovery-orchestrator' };

/** The notice each status is announced with (DESIGN.md: every rung notifies the user on every channel). */
/** Patch marker: the factors-revoked notice is sent before the revocation (see announce). */
const NOTIFY_BEFORE_REVOKING = 'notify-before-revoking';

const NOTICE_OF: Readonly<Record<string, RecoveryNotice>> = {
  'awaiting-evidence': 'recovery-requested',
  'cooling-off': 'recovery-cooling-off-started',
  'pass-issued': 'recovery-pass-issued',
  restricted: 'recovery-factors-revoked',
  completed: 'recovery-completed',
  cancelled: 'recovery-cancelled',
  rejected: 'recovery-rejected',
  expired: 'recovery-expired',
};

/**
 * An assisted or break-glass recovery (DESIGN.md rungs 4 and 5). The workflow waits and calls
 * activities; whether anything may happen is decided by the recovery decider inside
 * `applyRecoveryStep`, and what to wait for next comes back with every decision (`view.next`).
 *
 * People act through updates (evidence, votes, cancel, pass use, enrolment, review) that answer with
 * the decider's verdict; deadlines are durable timers (R3). Every decision goes through one queue, so
 * a cancel handled before a deadline fires is decided before it (S25).
 */
export async function recoveryWorkflow(input: RecoveryWorkflowInput): Promise<RecoveryOutcome> {
  const serial = new Serial();
  const sent = new Set<string>(input.sent ?? []);
  let view = null as RecoveryView | null;
  let changes = 0;
  let publishedState: string | null = null;

  const see = (next: RecoveryView): RecoveryView => {
    view = next;
    changes += 1;
    return next;
  };
  const apply = (step: RecoveryStep, actor: StepActor, correlationId: string): Promise<RecoveryView> =>
    serial.run(async () =>
      see(
        await decisions.applyRecoveryStep({ recoveryId: input.recoveryId, policyVersion: input.policyVersion, now: new Date().toISOString(), actor, correlationId, step }),
      ),
    );
  const reload = (): Promise<RecoveryView> =>
    serial.run(async () => see(await decisions.loadRecovery({ recoveryId: input.recoveryId, policyVersion: input.policyVersion, now: new Date().toISOString() })));
  /** A step the workflow takes itself; a refusal (say, a cancel got there first) just means: look again. */
  const attempt = async (step: RecoveryStep): Promise<RecoveryView> => {
    try {
      return await apply(step, SYSTEM, input.recoveryId);
    } catch (error) {
      const refused = domainRefusal(error);
      if (!refused) throw error;
      log.info('recovery step refused', { step: step.type, code: String((refused.details ?? [])[0]) });
      return reload();
    }
  };

  const assertOpen = (step: RecoveryStep['type']) => {
    if (view !== null && TERMINAL_RECOVERY_STATUSES.includes(view.status) && !(step === 'ClosePostIncidentReview' && view.review === 'open')) {
      // Refused before it enters history: nothing happens to a recovery once it has ended.
      throw refusal('recovery_terminal', 'conflict', `The recovery is ${view.status}; nothing more can happen to it`);
    }
  };

  setHandler(recoveryStateQuery, () => view);
  setHandler(
    recoveryStepUpdate,
    async ({ actor, correlationId, step }: HumanStep) => {
      await condition(() => view !== null);
      return apply(step, actor, correlationId).catch(rethrowAsRefusal);
    },
    { validator: ({ step }: HumanStep) => assertOpen(step.type) },
  );
  setHandler(
    recordEvidenceUpdate,
    async ({ actor, correlationId, verifier }) => {
      await condition(() => view !== null);
      if (view?.status !== 'awaiting-evidence') throw refusal('evidence_already_recorded', 'conflict', 'Identity evidence was already recorded for this recovery');
      let step: RecoveryStep;
      if (verifier.kind === 'idv-webhook') {
        const { outcome } = await effects.verifyIdentity({ recoveryId: input.recoveryId, userId: input.userId, reference: verifier.reference }).catch(rethrowAsRefusal);
        step = { type: 'RecordEvidence', verifier: { kind: 'idv-webhook', reference: verifier.reference }, outcome };
      } else {
        step = { type: 'RecordEvidence', verifier: { kind: verifier.kind, reference: verifier.reference, attestedBy: verifier.attestedBy }, outcome: verifier.outcome };
      }
      return apply(step, actor, correlationId).catch(rethrowAsRefusal);
    },
    { validator: (_evidence: EvidenceInput) => assertOpen('RecordEvidence') },
  );
  setHandler(accountFrozenSignal, ({ incidentId }) => {
    // Decided before anything the main loop does next; refused only if the recovery has already ended.
    apply({ type: 'CancelRecovery', proof: { via: 'account-frozen', incidentId } }, SYSTEM, incidentId).catch((error: unknown) => {
      if (!domainRefusal(error)) throw error;
    });
  });

  let current: RecoveryView;
  try {
    current = await serial.run(async () =>
      see(await firstLook.loadRecovery({ recoveryId: input.recoveryId, policyVersion: input.policyVersion, now: new Date().toISOString(), mustExist: true })),
    );
  } catch (error) {
    if (domainRefusal(error)) throw error;
    return { recoveryId: input.recoveryId, status: 'not-requested' };
  }

  for (;;) {
    current = view ?? current;
    if (publishedState !== stateLabel(current)) {
      publishedState = stateLabel(current);
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.state, value: publishedState }]);
    }
    await announce(current);
    if (view !== current) continue;

    const next = current.next;
    if (next.kind === 'done') break;
    if (next.kind === 'act') {
      await act(next.action);
      continue;
    }
    const seen = changes;
    const woke = await waitFor(next, current, () => changes !== seen);
    if (woke === 'deadline') await onDeadline(next.onDeadline, current);
    if (woke !== 'changed' && (await historyIsLong())) {
      await continueAsNew<typeof recoveryWorkflow>({ ...input, sent: [...sent] });
    }
  }
  await condition(allHandlersFinished);
  return { recoveryId: input.recoveryId, status: (view ?? current).status };

  /** Notices and clean-up for the status reached, each once (`sent` survives replays and continue-as-new). */
  async function announce(reached: RecoveryView): Promise<void> {
    const once = async (key: string, work: () => Promise<unknown>) => {
      if (sent.has(key)) return;
      await work();
      sent.add(key);
    };
    // Whatever happened first, the user hears that a recovery was asked for.
    await once('notice:recovery-requested', () => notify('recovery-requested', 'notice:recovery-requested'));
    const { status } = reached;
    if (status === 'restricted') {
      // S22: the notice goes out before the revocation, while the channels it revokes (an email or SMS
      // factor is also where notices go) can still carry it. Histories from before this order replay as
      // they ran (Temporal's patch marker).
      if (patched(NOTIFY_BEFORE_REVOKING)) await once('notice:recovery-factors-revoked', () => notify('recovery-factors-revoked', 'notice:recovery-factors-revoked'));
      await once('revoke:old-factors', () =>
        reached.revokedFactorIds.length === 0
          ? Promise.resolve()
          : effects.revokeFactors({ userId: input.userId, referenceId: input.recoveryId, factorIds: reached.revokedFactorIds, reason: 'recovery' }),
      );
    }
    if (status === 'cancelled' || status === 'expired' || status === 'rejected') {
      // Take back what the recovery handed out: a pass not yet spent, factors enrolled with it.
      const { passId, factorIds } = reached.toRevoke;
      if (passId !== null) await once('revoke:pass', () => effects.revokeTemporaryAccessPass({ recoveryId: input.recoveryId, userId: input.userId, passId }));
      if (factorIds.length > 0) {
        await once('revoke:enrolled', () => effects.revokeFactors({ userId: input.userId, referenceId: input.recoveryId, factorIds, reason: 'recovery' }));
      }
      if (reached.cancellation?.incidentSuspected) await once('incident:opened', openIncident);
    }
    const parent = workflowInfo().parent;
    if (status === 'pass-issued' && input.drillId !== null && parent && reached.passId !== null) {
      const passId = reached.passId;
      await once('drill:pass-issued', () => getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(drillPassIssuedSignal, { recoveryId: input.recoveryId, passId }));
    }
    const notice = NOTICE_OF[status];
    // The cooling-off notice says when the recovery completes unless cancelled: the user's deadline to act.
    const endsAt = status === 'cooling-off' ? reached.coolingOffEndsAt : null;
    if (notice !== undefined) await once(`notice:${notice}`, () => notify(notice, `notice:${notice}`, endsAt));
  }

  function notify(notice: RecoveryNotice, key: string, at: string | null = null): Promise<void> {
    return effects.notifyUser({ userId: input.userId, recoveryId: input.recoveryId, notice, noticeKey: `${input.recoveryId}:${key}`, at });
  }

  /** "This wasn't me": someone else asked for this recovery, so the account is frozen and on-call paged. */
  async function openIncident(): Promise<void> {
    try {
      await startChild(incidentWorkflow, {
        workflowId: incidentWorkflowId(input.userId),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.userId, value: input.userId },
          { key: SEARCH_ATTRIBUTES.kind, value: 'incident' },
          { key: SEARCH_ATTRIBUTES.state, value: 'frozen' },
        ],
        args: [
          {
            incidentId: uuid4(),
            userId: input.userId,
            source: 'wasnt-me-link',
            reportedBy: { kind: 'user', id: input.userId },
            recoveryId: input.recoveryId,
            deviceIds: [],
            correlationId: input.recoveryId,
          },
        ],
      });
    } catch (error) {
      // An incident already open for this user covers this report too.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  async function act(action: 'page-on-call' | 'revoke-old-factors'): Promise<void> {
    if (action === 'page-on-call') {
      const { pageReference } = await effects.pageOnCall({
        subject: 'recovery',
        id: input.recoveryId,
        userId: input.userId,
        summary: `Break-glass recovery ${input.recoveryId} requested for user ${input.userId}`,
      });
      await attempt({ type: 'RecordOnCallPage', pageReference });
      return;
    }
    const currentFactorIds = await effects.listFactorIds({ userId: input.userId });
    await attempt({ type: 'RevokeOldFactors', currentFactorIds });
  }

  async function onDeadline(action: 'expire' | 'issue-pass' | 'complete' | null, at: RecoveryView): Promise<void> {
    switch (action) {
      case 'expire':
        await attempt({ type: 'ExpireRecovery' });
        return;
      case 'complete':
        await attempt({ type: 'CompleteRecovery' });
        return;
      case 'issue-pass': {
        const { passId } = await effects.issueTemporaryAccessPass({
          recoveryId: input.recoveryId,
          userId: input.userId,
          lifetimeSeconds: Math.max(1, Math.ceil(at.passLifetimeMs / 1000)),
        });
        const after = await attempt({ type: 'IssueTemporaryAccessPass', passId });
        // Refused (a cancel got there first): the pass must not outlive the decision.
        if (after.passId !== passId) await effects.revokeTemporaryAccessPass({ recoveryId: input.recoveryId, userId: input.userId, passId });
        return;
      }
      case null:
        return;
    }
  }

  /**
   * Waits until something changes the recovery or the deadline passes, sending the reminders due on
   * the way. Instants come from the decider; the clock is the workflow's (durable timers).
   */
  async function waitFor(next: Extract<NextDeadline, { kind: 'wait' }>, at: RecoveryView, changed: () => boolean): Promise<'changed' | 'deadline' | 'forever'> {
    const until = next.until === null ? null : Date.parse(next.until);
    for (;;) {
      const now = Date.now();
      let reminder: number | null = null;
      if (next.waitingFor === 'post-incident-review') {
        // The review stays open until someone closes it, and is brought up again at every interval.
        reminder = now + at.reviewReminderIntervalMs;
      } else {
        for (const instant of next.reminders.map((text) => Date.parse(text))) {
          if (instant > now && !sent.has(reminderKey(next.waitingFor, instant)) && (reminder === null || instant < reminder)) reminder = instant;
        }
      }
      const target = reminder !== null && (until === null || reminder < until) ? reminder : until;
      if (target === null) {
        await condition(changed);
        return 'changed';
      }
      if (target > now && (await condition(changed, target - now))) return 'changed';
      if (changed()) return 'changed';
      if (target !== reminder) return 'deadline';
      await remind(next.waitingFor, reminder);
      if (next.waitingFor === 'post-incident-review' && (await historyIsLong())) return 'forever';
    }
  }

  async function remind(waitingFor: string, instant: number): Promise<void> {
    const key = reminderKey(waitingFor, instant);
    const noticeKey = `${input.recoveryId}:${key}`;
    if (waitingFor === 'cooling-off') await notify('recovery-completes-soon', key, view?.coolingOffEndsAt ?? null);
    else if (waitingFor === 'approval') await remindStaff('approval-pending', noticeKey);
    else if (waitingFor === 'post-incident-review') {
      await remindStaff('post-incident-review-open', noticeKey);
      return; // one key per instant is never reused, so it need not be remembered
    }
    sent.add(key);
  }

  async function remindStaff(notice: 'approval-pending' | 'post-incident-review-open', noticeKey: string): Promise<void> {
    try {
      await staff.notifyStaff({ notice, recoveryId: input.recoveryId, userId: input.userId, noticeKey });
    } catch (error) {
      log.warn('staff reminder not delivered', { notice, error: String(error) });
    }
  }
}

const reminderKey = (waitingFor: string, instant: number): string => `remind:${waitingFor}@${new Date(instant).toISOString()}`;

/** What on-call sees in the TesseraRecoveryState column: the status, or what an open review waits for. */
function stateLabel(view: RecoveryView): string {
  return TERMINAL_RECOVERY_STATUSES.includes(view.status) && view.review === 'open' ? `${view.status}:review-open` : view.status;
}

/** Long histories are handed to a fresh run once no handler is in flight (the state lives in the event store). */
async function historyIsLong(): Promise<boolean> {
  if (!workflowInfo().continueAsNewSuggested) return false;
  await condition(allHandlersFinished);
  return true;
}
