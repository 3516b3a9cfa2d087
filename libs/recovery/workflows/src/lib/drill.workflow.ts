import { CancellationScope, condition, ParentClosePolicy, proxyActivities, setHandler, sleep, startChild, uuid4, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { DOMAIN_ERROR_TYPE, type RecoveryActivities } from './recovery.activities';
import { drillPassIssuedSignal, type DrillOutcome, type DrillWorkflowInput, recoveryWorkflowId, SEARCH_ATTRIBUTES } from './recovery.messages';
import { recoveryWorkflow } from './recovery.workflow';

const decisions = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});
/** Plays the people of the recovery: evidence, votes, the pass's use. */
const people = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [DOMAIN_ERROR_TYPE] },
});

/**
 * A recovery drill (the periodic test of recovery a disaster-recovery plan asks for): a real assisted
 * recovery of a synthetic test account, with every timer shortened by the drill policy, driven end to
 * end through the same workflow, decider and activities as a real one. Its outcome is recorded as
 * RecoveryDrillSucceeded / RecoveryDrillFailed and as a metric. Run by a Temporal Schedule.
 */
export async function drillWorkflow(input: DrillWorkflowInput = {}): Promise<DrillOutcome> {
  const drillId = input.drillId ?? uuid4();
  let passId: string | null = null;
  setHandler(drillPassIssuedSignal, (issued) => {
    passId = issued.passId;
  });
  const plan = await decisions.startDrillRecovery({ drillId, now: new Date().toISOString() });
  const recovery = await startChild(recoveryWorkflow, {
    workflowId: recoveryWorkflowId(plan.userId),
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.userId, value: plan.userId },
      { key: SEARCH_ATTRIBUTES.kind, value: 'assisted' },
      { key: SEARCH_ATTRIBUTES.state, value: 'awaiting-evidence' },
    ],
    memo: { reason: `recovery drill ${drillId}`, policyVersion: plan.policyVersion },
    args: [{ recoveryId: plan.recoveryId, userId: plan.userId, kind: 'assisted', policyVersion: plan.policyVersion, drillId }],
  });

  let recoveryEnded = false;
  const ended = recovery.result().then(
    () => (recoveryEnded = true),
    () => (recoveryEnded = true),
  );
  const remainingMs = Math.max(1, Date.parse(plan.deadline) - Date.now());
  await CancellationScope.cancellable(async () => {
    const scope = CancellationScope.current();
    const drive = (async () => {
      try {
        await people.driveDrillRecovery({ drillId, recoveryId: plan.recoveryId, userId: plan.userId, stage: 'evidence-and-approvals' });
        // The recovery signals when its pass is out (its timers are the drill policy's, shortened).
        await condition(() => passId !== null || recoveryEnded);
        if (passId === null) return;
        await people.driveDrillRecovery({ drillId, recoveryId: plan.recoveryId, userId: plan.userId, stage: 'enrolment', passId: passId ?? undefined });
      } catch {
        // A step that failed leaves the recovery to expire; the outcome records how far it got.
      }
      await ended;
    })();
    await Promise.race([drive, sleep(remainingMs)]);
    scope.cancel();
  }).catch(() => undefined);

  return decisions.recordDrillOutcome({ drillId, recoveryId: plan.recoveryId, now: new Date().toISOString() });
}
