import { allHandlersFinished, condition, getExternalWorkflowHandle, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { DOMAIN_ERROR_TYPE, type IncidentStep, type RecoveryActivities } from './recovery.activities';
import {
  accountFrozenSignal,
  decideIncidentUpdate,
  type IncidentDecision,
  incidentStateQuery,
  type IncidentView,
  type IncidentWorkflowInput,
  recoveryWorkflowId,
  revokeIncidentDevicesUpdate,
  SEARCH_ATTRIBUTES,
  type StepActor,
} from './recovery.messages';
import { refusal, rethrowAsRefusal, Serial } from './workflow-support';

const decisions = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});
const effects = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});

/** The report is committed in the transaction that started this workflow; it may take a moment to be visible. */
const firstLook = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 8, nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});

const OPEN = ['frozen', 'recovery-forced'];

/**
 * Incident response (DESIGN.md): a suspected compromise freezes the account at once (auth-service
 * refuses factor changes, the orchestrator refuses recoveries and cancels the one under way), revokes
 * the chosen devices, pages on-call, and waits, without a time limit, for a security officer to
 * unfreeze the account or force an assisted recovery. The rules are the incident decider's.
 */
export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentView> {
  const serial = new Serial();
  let view = null as IncidentView | null;
  const reporter: StepActor = { kind: input.reportedBy.kind, id: input.reportedBy.id };
  const apply = (step: IncidentStep, actor: StepActor, correlationId: string): Promise<IncidentView> =>
    serial.run(async () => {
      view = await decisions.applyIncidentStep({ incidentId: input.incidentId, now: new Date().toISOString(), actor, correlationId, step });
      return view;
    });
  const assertOpen = () => {
    if (view !== null && !OPEN.includes(view.status)) throw refusal('incident_closed', 'conflict', 'The incident is decided and the account unfrozen');
  };

  setHandler(incidentStateQuery, () => view);
  setHandler(
    revokeIncidentDevicesUpdate,
    async ({ actor, correlationId, deviceIds }) => {
      await condition(() => view !== null);
      const after = await apply({ type: 'RevokeDevices', deviceIds }, actor, correlationId).catch(rethrowAsRefusal);
      await effects.revokeDevices({ userId: input.userId, incidentId: input.incidentId, deviceIds });
      return after;
    },
    { validator: (_revocation: { readonly deviceIds: readonly string[] }) => assertOpen() },
  );
  setHandler(
    decideIncidentUpdate,
    async (decision: IncidentDecision) => {
      await condition(() => view !== null);
      const { actor, actorRoles, correlationId, reason } = decision;
      if (decision.decision === 'unfreeze') {
        const after = await apply({ type: 'UnfreezeAccount', decidedBy: actor.id, deciderRoles: actorRoles, reason }, actor, correlationId).catch(rethrowAsRefusal);
        await effects.unfreezeAccount({ userId: input.userId, incidentId: input.incidentId });
        return after;
      }
      if (!decision.recovery) throw refusal('recovery_details_required', 'invalid', 'Forcing a recovery needs its ticket reference');
      const { recoveryId, ticketReference, lostFactorIds, subjectGroups } = decision.recovery;
      const after = await apply({ type: 'ForceAssistedRecovery', decidedBy: actor.id, deciderRoles: actorRoles, reason, recoveryId }, actor, correlationId).catch(
        rethrowAsRefusal,
      );
      await effects
        .startForcedRecovery({ incidentId: input.incidentId, userId: input.userId, recoveryId, requestedBy: actor.id, ticketReference, lostFactorIds, subjectGroups, correlationId })
        .catch(rethrowAsRefusal);
      return after;
    },
    { validator: (_decision: IncidentDecision) => assertOpen() },
  );

  let current = input.reported
    ? await serial.run(async () => (view = await firstLook.loadIncident({ incidentId: input.incidentId })))
    : await apply(
        { type: 'ReportSuspectedCompromise', userId: input.userId, source: input.source, reportedBy: input.reportedBy, recoveryId: input.recoveryId },
        reporter,
        input.correlationId,
      );
  if (current.status === 'none') return current;
  await effects.freezeAccount({ userId: input.userId, incidentId: input.incidentId, reason: `incident ${input.incidentId} (${input.source})` });
  try {
    // The recovery under way, if any, is cancelled; the decider lets none but a forced one start while frozen.
    await getExternalWorkflowHandle(recoveryWorkflowId(input.userId)).signal(accountFrozenSignal, { incidentId: input.incidentId });
  } catch {
    // No recovery is running for this user.
  }
  const { pageReference } = await effects.pageOnCall({
    subject: 'incident',
    id: input.incidentId,
    userId: input.userId,
    summary: `Suspected compromise of user ${input.userId} (${input.source}); the account is frozen and waits for a decision`,
  });
  current = await apply({ type: 'RecordIncidentPage', pageReference }, { kind: 'system', id: 'recovery-orchestrator' }, input.correlationId);
  await effects.notifyUser({ userId: input.userId, recoveryId: input.incidentId, notice: 'account-frozen', noticeKey: `${input.incidentId}:frozen`, at: null });
  if (input.deviceIds.length > 0) {
    current = await apply({ type: 'RevokeDevices', deviceIds: input.deviceIds }, reporter, input.correlationId);
    await effects.revokeDevices({ userId: input.userId, incidentId: input.incidentId, deviceIds: input.deviceIds });
  }

  let published = '';
  for (;;) {
    current = view ?? current;
    if (current.status !== published) {
      published = current.status;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.state, value: published }]);
    }
    if (!OPEN.includes(current.status)) break;
    const seen = current;
    await condition(() => view !== seen);
  }
  await condition(allHandlersFinished);
  await effects.notifyUser({ userId: input.userId, recoveryId: input.incidentId, notice: 'account-unfrozen', noticeKey: `${input.incidentId}:unfrozen`, at: null });
  return current;
}
