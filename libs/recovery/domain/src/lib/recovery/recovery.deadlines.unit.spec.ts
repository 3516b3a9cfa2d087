import { DomainError } from '@tessera/event-sourcing';
import { validatePolicy } from '../policy/policy';
import { DEFAULT_RECOVERY_POLICY_DOCUMENT } from '../policy/default-policy';
import {
  ASSISTED_PATH,
  at,
  cancelByStepUp,
  closeReview,
  COOLING_OFF_ENDS,
  expire,
  history,
  HOUR,
  isoAt,
  OFFICER_4,
  PASS_ISSUED_AT,
  POLICY,
  recordEvidence,
  recordOnCallPage,
  requestRecovery,
  RESTRICTED_UNTIL,
  stateOf,
} from '../../testing/recovery-fixtures';
import { nextDeadline } from './recovery.deadlines';
import { initialRecoveryState, isTerminal } from './recovery.state';

const next = (commands: Parameters<typeof history>[0]) => nextDeadline(stateOf(history(commands)), POLICY);

describe('nextDeadline: what the workflow waits for, and until when', () => {
  it('when awaiting evidence: the evidence, until its deadline, then expire', () => {
    expect(next(ASSISTED_PATH.requested)).toEqual({ kind: 'wait', waitingFor: 'evidence', until: isoAt(72 * HOUR), onDeadline: 'expire', reminders: [] });
  });

  it('when awaiting approval: votes until the approval deadline, reminding approvers every 24 h before it', () => {
    expect(next(ASSISTED_PATH.awaitingApproval)).toEqual({
      kind: 'wait',
      waitingFor: 'approval',
      until: isoAt(73 * HOUR),
      onDeadline: 'expire',
      reminders: [isoAt(25 * HOUR), isoAt(49 * HOUR)],
    });
  });

  it('when cooling off: a timer to the end, then issue the pass; the subject is warned 6 h before', () => {
    expect(next(ASSISTED_PATH.coolingOff)).toEqual({
      kind: 'wait',
      waitingFor: 'cooling-off',
      until: isoAt(COOLING_OFF_ENDS),
      onDeadline: 'issue-pass',
      reminders: [isoAt(COOLING_OFF_ENDS - 6 * HOUR)],
    });
  });

  it('when the pass is issued: its redemption, until it lapses', () => {
    expect(next(ASSISTED_PATH.passIssued)).toEqual({ kind: 'wait', waitingFor: 'pass-redemption', until: isoAt(PASS_ISSUED_AT + HOUR), onDeadline: 'expire', reminders: [] });
  });

  it('when the pass is redeemed: the enrolment, until its deadline', () => {
    expect(next(ASSISTED_PATH.passRedeemed)).toEqual({ kind: 'wait', waitingFor: 'enrolment', until: isoAt(PASS_ISSUED_AT + 2 * HOUR), onDeadline: 'expire', reminders: [] });
  });

  it('when enrolled: revoke the old factors now', () => {
    expect(next(ASSISTED_PATH.enrolled)).toEqual({ kind: 'act', action: 'revoke-old-factors' });
  });

  it('when restricted: a timer to the end of the restricted period, then complete', () => {
    expect(next(ASSISTED_PATH.restricted)).toEqual({ kind: 'wait', waitingFor: 'restricted-period', until: isoAt(RESTRICTED_UNTIL), onDeadline: 'complete', reminders: [] });
  });

  it('when ended: done', () => {
    expect(next(ASSISTED_PATH.completed)).toEqual({ kind: 'done' });
    expect(next([...ASSISTED_PATH.coolingOff, cancelByStepUp(at(4 * HOUR))])).toEqual({ kind: 'done' });
  });

  it('break-glass: page on-call before anything else', () => {
    expect(next([requestRecovery({ kind: 'break-glass' })])).toEqual({ kind: 'act', action: 'page-on-call' });
    expect(next([requestRecovery({ kind: 'break-glass' }), recordOnCallPage(at(1))])).toMatchObject({ kind: 'wait', waitingFor: 'evidence' });
  });

  it('break-glass: an ended recovery waits, without a time limit, for its review to close', () => {
    const expired = [requestRecovery({ kind: 'break-glass' }), expire(at(24 * HOUR))];
    expect(next(expired)).toEqual({ kind: 'wait', waitingFor: 'post-incident-review', until: null, onDeadline: null, reminders: [] });
    expect(next([...expired, closeReview(OFFICER_4, at(25 * HOUR))])).toEqual({ kind: 'done' });
  });

  it('no reminder falls on or after the deadline', () => {
    const doc = structuredClone(DEFAULT_RECOVERY_POLICY_DOCUMENT);
    doc.policyVersion = 'reminders-1';
    doc.kinds.assisted.approvals.reminderInterval = '36h';
    const policy = validatePolicy(doc);
    const state = stateOf(history([requestRecovery({}, at(0), policy), recordEvidence(at(HOUR), {}, policy)]));
    expect(nextDeadline(state, policy)).toMatchObject({ reminders: [isoAt(37 * HOUR)] });
  });

  it('refuses a policy other than the one the recovery runs under', () => {
    const doc = structuredClone(DEFAULT_RECOVERY_POLICY_DOCUMENT);
    doc.policyVersion = 'default-2';
    expect(() => nextDeadline(stateOf(history(ASSISTED_PATH.requested)), validatePolicy(doc))).toThrow(expect.objectContaining({ code: 'policy_version_mismatch' }));
  });

  it('has nothing to say about a recovery that does not exist', () => {
    expect(() => nextDeadline(initialRecoveryState(), POLICY)).toThrow(DomainError);
  });
});

describe('isTerminal', () => {
  it.each([
    ['requested', false, ASSISTED_PATH.requested],
    ['awaiting approval', false, ASSISTED_PATH.awaitingApproval],
    ['cooling off', false, ASSISTED_PATH.coolingOff],
    ['pass issued', false, ASSISTED_PATH.passIssued],
    ['enrolled', false, ASSISTED_PATH.enrolled],
    ['restricted', false, ASSISTED_PATH.restricted],
    ['completed', true, ASSISTED_PATH.completed],
    ['cancelled', true, [...ASSISTED_PATH.coolingOff, cancelByStepUp(at(4 * HOUR))]],
    ['rejected', true, [...ASSISTED_PATH.requested, recordEvidence(at(HOUR), { outcome: 'failed' })]],
    ['expired', true, [...ASSISTED_PATH.awaitingApproval, expire(at(73 * HOUR))]],
  ] as const)('%s → terminal: %s', (_name, terminal, commands) => {
    expect(isTerminal(stateOf(history(commands)))).toBe(terminal);
  });

  it('not-requested is not terminal', () => {
    expect(isTerminal(initialRecoveryState())).toBe(false);
  });
});
