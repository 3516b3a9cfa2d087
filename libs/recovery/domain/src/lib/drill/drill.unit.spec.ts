import { RECOVERY_EVENT_SCHEMAS } from '@tessera/contracts';
import { deciderSpec } from '@tessera/testing';
import {
  approve,
  at,
  complete,
  enrol,
  expire,
  history,
  HOUR,
  isoAt,
  issuePass,
  OFFICER_1,
  OFFICER_2,
  POLICY,
  RECOVERY_ID,
  recordEvidence,
  redeem,
  reject,
  requestRecovery,
  revokeOld,
  SECOND,
  stateOf,
  SUBJECT,
  T0,
} from '../../testing/recovery-fixtures';
import { DEFAULT_RECOVERY_POLICY_DOCUMENT } from '../policy/default-policy';
import { validatePolicy } from '../policy/policy';
import { recoveryDecider } from '../recovery/recovery.decide';
import { initialRecoveryState } from '../recovery/recovery.state';
import { drillOutcome, drillPolicy, planDrill } from './drill';

const spec = deciderSpec(recoveryDecider);
const DRILL = drillPolicy(POLICY, 1000);
const DRILL_ID = 'drill-2026-03';
const drillRequest = (overrides: Parameters<typeof requestRecovery>[0] = {}) =>
  requestRecovery({ syntheticTestAccount: true, drillId: DRILL_ID, ...overrides }, T0, DRILL);

// Under a thousandfold drill policy: cooling-off 86.4 s, pass 3.6 s, restricted period 604.8 s.
const COOLING_OFF_ENDS = 30 * SECOND + 86_400;
const RESTRICTED_UNTIL = COOLING_OFF_ENDS + 3 * SECOND + 604_800;
const drillPath = [
  drillRequest(),
  recordEvidence(at(10 * SECOND), {}, DRILL),
  approve(OFFICER_1, at(20 * SECOND), undefined, DRILL),
  approve(OFFICER_2, at(30 * SECOND), undefined, DRILL),
  issuePass(at(COOLING_OFF_ENDS), undefined, DRILL),
  redeem(at(COOLING_OFF_ENDS + SECOND), undefined, DRILL),
  enrol(at(COOLING_OFF_ENDS + 2 * SECOND), {}, DRILL),
  revokeOld(at(COOLING_OFF_ENDS + 3 * SECOND), undefined, DRILL),
  complete(at(RESTRICTED_UNTIL), DRILL),
];
const plan = planDrill({ drillId: DRILL_ID, recoveryId: RECOVERY_ID, userId: SUBJECT, syntheticTestAccount: true, policy: DRILL, now: T0 });

describe('drill policy', () => {
  it('divides every duration by the factor and keeps every count and rule', () => {
    const assisted = DRILL.kinds.assisted;
    expect(assisted.coolingOff).toEqual({
      baseMs: 86_400,
      privilegedBaseMs: 259_200,
      extensionsMs: { 'new-network': 86_400, 'new-device': 86_400, 'recent-factor-change': 172_800 },
      maximumMs: 604_800,
      notifyBeforeCompletionMs: 21_600,
    });
    expect(assisted.temporaryAccessPass).toEqual({ lifetimeMs: 3_600, singleUse: true, enrolmentTimeoutMs: 7_200 });
    expect(assisted.approvals).toMatchObject({ required: 2, roles: ['security-officer'], timeoutMs: 259_200 });
    expect(DRILL.kinds['break-glass'].approvals.required).toBe(3);
    expect(DRILL.selection).toEqual(POLICY.selection);
  });

  it('is marked as a drill policy with its own version', () => {
    expect(DRILL.policyVersion).toBe(`${POLICY.policyVersion}+drill.1000`);
    expect(DRILL.drill).toEqual({ timerFactor: 1000, basePolicyVersion: POLICY.policyVersion });
  });

  it('rounds up and never shortens a duration to zero', () => {
    const doc = structuredClone(DEFAULT_RECOVERY_POLICY_DOCUMENT);
    doc.kinds.assisted.cancellation.stepUpMaxAge = '1m';
    const fastest = drillPolicy(validatePolicy(doc), 100_000).kinds.assisted;
    expect(fastest.cancellation.stepUpMaxAgeMs).toBe(1);
    expect(fastest.temporaryAccessPass.lifetimeMs).toBe(36);
  });

  it.each([0, 1.5, -2, 100_001, Number.NaN])('refuses the factor %p', (factor) => {
    expect(() => drillPolicy(POLICY, factor)).toThrow(RangeError);
  });

  it('is not shortened twice', () => {
    expect(() => drillPolicy(DRILL, 10)).toThrow(RangeError);
  });
});

describe('drill recoveries', () => {
  it('a drill policy is refused for a real account (its timers would erase the cooling-off)', () => {
    spec.given([]).when(requestRecovery({}, T0, DRILL)).thenThrows('drill_policy_on_real_account');
    spec.given([]).when(requestRecovery({ drillId: DRILL_ID }, T0, DRILL)).thenThrows('drill_policy_on_real_account');
  });

  it('a drill runs on a synthetic test account only', () => {
    spec.given([]).when(requestRecovery({ drillId: DRILL_ID })).thenThrows('drill_requires_synthetic_account');
    expect(() => planDrill({ drillId: DRILL_ID, recoveryId: RECOVERY_ID, userId: SUBJECT, syntheticTestAccount: false, policy: DRILL, now: T0 })).toThrow(
      expect.objectContaining({ code: 'drill_requires_synthetic_account' }),
    );
  });

  it('a drill exercises assisted recovery', () => {
    spec.given([]).when(drillRequest({ kind: 'break-glass' })).thenThrows('drill_must_be_assisted');
  });

  it('a drill is planned under a drill policy', () => {
    expect(() => planDrill({ drillId: DRILL_ID, recoveryId: RECOVERY_ID, userId: SUBJECT, syntheticTestAccount: true, policy: POLICY, now: T0 })).toThrow(
      expect.objectContaining({ code: 'drill_policy_required' }),
    );
  });

  it('S25: the shortened cooling-off still cannot be skipped', () => {
    spec.given(history(drillPath.slice(0, 4))).when(issuePass(at(COOLING_OFF_ENDS - 1), undefined, DRILL)).thenThrows('cooling_off_not_elapsed');
  });

  it('the deadline is the slowest path an assisted recovery may take under the drill policy', () => {
    // evidence 259.2 s + approvals 259.2 s + cooling-off maximum 604.8 s + enrolment 7.2 s + restricted 604.8 s
    expect(plan).toEqual({
      drillId: DRILL_ID,
      recoveryId: RECOVERY_ID,
      userId: SUBJECT,
      policyVersion: DRILL.policyVersion,
      timerFactor: 1000,
      startedAt: T0.toISOString(),
      deadline: isoAt(1_735_200),
    });
  });
});

describe('drill outcomes', () => {
  it('succeeds when the recovery completes', () => {
    expect(drillOutcome(plan, stateOf(history(drillPath)), at(RESTRICTED_UNTIL))).toEqual({
      type: 'RecoveryDrillSucceeded',
      data: {
        drillId: DRILL_ID,
        recoveryId: RECOVERY_ID,
        userId: SUBJECT,
        policyVersion: DRILL.policyVersion,
        timerFactor: 1000,
        startedAt: T0.toISOString(),
        finishedAt: isoAt(RESTRICTED_UNTIL),
        durationMs: RESTRICTED_UNTIL,
      },
    });
  });

  it('is still running before the deadline', () => {
    expect(drillOutcome(plan, stateOf(history(drillPath.slice(0, 4))), at(40 * SECOND))).toBeNull();
    expect(drillOutcome(plan, initialRecoveryState(), at(SECOND))).toBeNull();
  });

  it('fails when the recovery is rejected', () => {
    const rejected = stateOf(history([drillRequest(), reject(OFFICER_1, at(5 * SECOND), undefined, DRILL)]));
    expect(drillOutcome(plan, rejected, at(6 * SECOND))).toMatchObject({
      type: 'RecoveryDrillFailed',
      data: { reason: 'recovery-rejected', stageReached: 'rejected', finishedAt: isoAt(5 * SECOND), durationMs: 5 * SECOND },
    });
  });

  it('fails when a wait expires', () => {
    const expired = stateOf(history([drillRequest(), expire(at(259_200), DRILL)]));
    expect(drillOutcome(plan, expired, at(259_200))).toMatchObject({ type: 'RecoveryDrillFailed', data: { reason: 'recovery-expired', stageReached: 'expired' } });
  });

  it('fails at the deadline, naming the stage it reached', () => {
    const stuck = stateOf(history(drillPath.slice(0, 3)));
    expect(drillOutcome(plan, stuck, at(1_735_200))).toMatchObject({
      type: 'RecoveryDrillFailed',
      data: { reason: 'deadline-passed', stageReached: 'awaiting-approval', finishedAt: isoAt(1_735_200) },
    });
    expect(drillOutcome(plan, initialRecoveryState(), at(2 * HOUR))).toMatchObject({ data: { reason: 'deadline-passed', stageReached: 'not-requested' } });
  });

  it('refuses to judge a recovery that is not the drill', () => {
    const real = stateOf(history([requestRecovery()]));
    expect(() => drillOutcome(plan, real, at(SECOND))).toThrow(expect.objectContaining({ code: 'drill_recovery_mismatch' }));
  });

  it('outcomes satisfy their published contracts', () => {
    const outcomes = [
      drillOutcome(plan, stateOf(history(drillPath)), at(RESTRICTED_UNTIL)),
      drillOutcome(plan, stateOf(history(drillPath.slice(0, 3))), at(1_735_200)),
    ];
    for (const outcome of outcomes) {
      if (outcome === null) throw new Error('expected an outcome');
      expect(RECOVERY_EVENT_SCHEMAS[outcome.type].safeParse(outcome.data).success).toBe(true);
    }
  });
});
