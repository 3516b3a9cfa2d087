import { type RecoveryEventOf } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { type RecoveryKindSettings, type RecoveryPolicy } from '../policy/policy';
import { type RecoveryState } from '../recovery/recovery.state';

/**
 * Recovery drills: a scheduled assisted recovery of a synthetic test account, run end to end with
 * shortened timers, so the team learns that recovery works (and how long it takes) before a real user
 * needs it. A recovery path nobody has exercised is one that fails on the day.
 */
export type RecoveryDrillSucceeded = RecoveryEventOf<'RecoveryDrillSucceeded'>;
export type RecoveryDrillFailed = RecoveryEventOf<'RecoveryDrillFailed'>;
export type RecoveryDrillEvent = RecoveryDrillSucceeded | RecoveryDrillFailed;

/** A thousandfold is ample: 24 h of cooling-off becomes under 90 s. */
export const MAX_DRILL_TIMER_FACTOR = 100_000;

/**
 * The policy a drill runs under: every duration divided by `factor` (rounded up, never below 1 ms),
 * every count and rule unchanged. The result is marked as a drill policy, and the recovery decider
 * refuses it for anything but a drill on a synthetic test account.
 */
export function drillPolicy(policy: RecoveryPolicy, factor: number): RecoveryPolicy {
  if (!Number.isInteger(factor) || factor < 1 || factor > MAX_DRILL_TIMER_FACTOR) {
    throw new RangeError(`A drill timer factor is a whole number from 1 to ${MAX_DRILL_TIMER_FACTOR}; got ${factor}`);
  }
  if (policy.drill !== null) throw new RangeError('This policy is already a drill policy');
  const shorten = (ms: number) => (ms === 0 ? 0 : Math.max(1, Math.ceil(ms / factor)));
  const kind = (s: RecoveryKindSettings): RecoveryKindSettings => ({
    ...s,
    approvals: { ...s.approvals, timeoutMs: shorten(s.approvals.timeoutMs), reminderIntervalMs: shorten(s.approvals.reminderIntervalMs) },
    evidence: { ...s.evidence, timeoutMs: shorten(s.evidence.timeoutMs) },
    coolingOff: {
      baseMs: shorten(s.coolingOff.baseMs),
      privilegedBaseMs: shorten(s.coolingOff.privilegedBaseMs),
      extensionsMs: {
        'new-network': shorten(s.coolingOff.extensionsMs['new-network']),
        'new-device': shorten(s.coolingOff.extensionsMs['new-device']),
        'recent-factor-change': shorten(s.coolingOff.extensionsMs['recent-factor-change']),
      },
      maximumMs: shorten(s.coolingOff.maximumMs),
      notifyBeforeCompletionMs: shorten(s.coolingOff.notifyBeforeCompletionMs),
    },
    temporaryAccessPass: {
      lifetimeMs: shorten(s.temporaryAccessPass.lifetimeMs),
      singleUse: true,
      enrolmentTimeoutMs: shorten(s.temporaryAccessPass.enrolmentTimeoutMs),
    },
    restrictedPeriodMs: shorten(s.restrictedPeriodMs),
    cancellation: { ...s.cancellation, stepUpMaxAgeMs: shorten(s.cancellation.stepUpMaxAgeMs) },
  });
  return {
    ...policy,
    policyVersion: `${policy.policyVersion}+drill.${factor}`,
    kinds: { assisted: kind(policy.kinds.assisted), 'break-glass': kind(policy.kinds['break-glass']) },
    drill: { timerFactor: factor, basePolicyVersion: policy.policyVersion },
  };
}

export interface DrillPlan {
  readonly drillId: string;
  readonly recoveryId: string;
  readonly userId: string;
  readonly policyVersion: string;
  readonly timerFactor: number;
  readonly startedAt: string;
  /** When a drill still unfinished counts as failed: the slowest path an assisted recovery may take. */
  readonly deadline: string;
}

export interface PlanDrillInput {
  readonly drillId: string;
  readonly recoveryId: string;
  readonly userId: string;
  readonly syntheticTestAccount: boolean;
  readonly policy: RecoveryPolicy;
  readonly now: Date;
}

export function planDrill(input: PlanDrillInput): DrillPlan {
  if (!input.syntheticTestAccount) throw new DomainError('drill_requires_synthetic_account', 'Drills run on synthetic test accounts only', 'forbidden');
  const { policy } = input;
  if (policy.drill === null) throw new DomainError('drill_policy_required', 'A drill runs under a drill policy (see drillPolicy)', 'invalid');
  const s = policy.kinds.assisted;
  const slowestMs =
    s.evidence.timeoutMs + s.approvals.timeoutMs + s.coolingOff.maximumMs + s.temporaryAccessPass.enrolmentTimeoutMs + s.restrictedPeriodMs;
  return {
    drillId: input.drillId,
    recoveryId: input.recoveryId,
    userId: input.userId,
    policyVersion: policy.policyVersion,
    timerFactor: policy.drill.timerFactor,
    startedAt: input.now.toISOString(),
    deadline: new Date(input.now.getTime() + slowestMs).toISOString(),
  };
}

/**
 * The drill's outcome from its recovery's state: succeeded once the recovery completed, failed once
 * it ended any other way or the deadline passed, `null` while it is still under way.
 */
export function drillOutcome(plan: DrillPlan, recovery: RecoveryState, now: Date): RecoveryDrillEvent | null {
  if (recovery.status !== 'not-requested' && (recovery.recoveryId !== plan.recoveryId || recovery.drillId !== plan.drillId)) {
    throw new DomainError('drill_recovery_mismatch', `Recovery ${recovery.recoveryId} is not the recovery of drill ${plan.drillId}`, 'invalid');
  }
  const base = (finishedAt: string) => ({
    drillId: plan.drillId,
    recoveryId: plan.recoveryId,
    userId: plan.userId,
    policyVersion: plan.policyVersion,
    timerFactor: plan.timerFactor,
    startedAt: plan.startedAt,
    finishedAt,
    durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(plan.startedAt)),
  });
  switch (recovery.status) {
    case 'completed':
      return { type: 'RecoveryDrillSucceeded', data: base(recovery.completedAt) };
    case 'cancelled':
      return { type: 'RecoveryDrillFailed', data: { ...base(recovery.cancelledAt), reason: 'recovery-cancelled', stageReached: 'cancelled' } };
    case 'rejected':
      return { type: 'RecoveryDrillFailed', data: { ...base(recovery.rejectedAt), reason: 'recovery-rejected', stageReached: 'rejected' } };
    case 'expired':
      return { type: 'RecoveryDrillFailed', data: { ...base(recovery.expiredAt), reason: 'recovery-expired', stageReached: 'expired' } };
    default:
      if (now.getTime() < Date.parse(plan.deadline)) return null;
      return { type: 'RecoveryDrillFailed', data: { ...base(now.toISOString()), reason: 'deadline-passed', stageReached: recovery.status } };
  }
}
