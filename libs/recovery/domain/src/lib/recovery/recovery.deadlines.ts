import { assertNever, DomainError } from '@tessera/event-sourcing';
import { type RecoveryPolicy } from '../policy/policy';
import { rulesOf } from './recovery.decide';
import { isTerminal, type RecoveryState } from './recovery.state';

/** What a recovery is waiting on. */
export type RecoveryWait = 'evidence' | 'approval' | 'cooling-off' | 'pass-redemption' | 'enrolment' | 'restricted-period' | 'post-incident-review';

/**
 * The next thing the recovery workflow does:
 * - `act`: run an activity now, then record it (page on-call, revoke the old factors);
 * - `wait`: wait for a signal (evidence, votes, cancel, pass use, ...) until `until`; if the time passes
 *   first, send `onDeadline` (`expire` → ExpireRecovery, `issue-pass` → IssueTemporaryAccessPass,
 *   `complete` → CompleteRecovery). `until: null` waits without a time limit. `reminders` are instants
 *   at which to notify (approvers of a pending vote; the subject before the cooling-off ends); ones
 *   already past are skipped by the caller;
 * - `done`: nothing left; the workflow returns.
 * A cancel signal may arrive during any wait and is always offered to the decider first.
 */
export type NextDeadline =
  | { readonly kind: 'act'; readonly action: 'page-on-call' | 'revoke-old-factors' }
  | {
      readonly kind: 'wait';
      readonly waitingFor: RecoveryWait;
      readonly until: string | null;
      readonly onDeadline: 'expire' | 'issue-pass' | 'complete' | null;
      readonly reminders: readonly string[];
    }
  | { readonly kind: 'done' };

const wait = (waitingFor: RecoveryWait, until: string | null, onDeadline: 'expire' | 'issue-pass' | 'complete' | null, reminders: readonly string[] = []): NextDeadline => ({
  kind: 'wait',
  waitingFor,
  until,
  onDeadline,
  reminders,
});

/** What the workflow should wait for next and until when; pure, so a replayed workflow gets the same answer. */
export function nextDeadline(state: RecoveryState, policy: RecoveryPolicy): NextDeadline {
  if (state.status === 'not-requested') throw new DomainError('recovery_not_found', 'No such recovery', 'not_found');
  const rules = rulesOf(policy, state);
  if (isTerminal(state)) return state.review === 'open' ? wait('post-incident-review', null, null) : { kind: 'done' };
  // Break-glass pages on-call before anything else, so a human watches the whole recovery.
  if (state.onCallPageRequired && state.onCallPagedAt === null) return { kind: 'act', action: 'page-on-call' };

  switch (state.status) {
    case 'awaiting-evidence':
      return wait('evidence', state.evidenceDueBy, 'expire');
    case 'awaiting-approval': {
      const reminders: string[] = [];
      const due = Date.parse(state.approvalDueBy);
      for (let at = Date.parse(state.evidence.recordedAt) + rules.approvalReminderIntervalMs; at < due; at += rules.approvalReminderIntervalMs) {
        reminders.push(new Date(at).toISOString());
      }
      return wait('approval', state.approvalDueBy, 'expire', reminders);
    }
    case 'cooling-off':
      return wait('cooling-off', state.coolingOff.endsAt, 'issue-pass', state.coolingOff.notifyAt === null ? [] : [state.coolingOff.notifyAt]);
    case 'pass-issued':
      if (state.pass.redeemedAt === null) {
        const until = Date.parse(state.pass.expiresAt) < Date.parse(state.enrolmentDueBy) ? state.pass.expiresAt : state.enrolmentDueBy;
        return wait('pass-redemption', until, 'expire');
      }
      return wait('enrolment', state.enrolmentDueBy, 'expire');
    case 'enrolled':
      return { kind: 'act', action: 'revoke-old-factors' };
    case 'restricted':
      return wait('restricted-period', state.restrictedUntil, 'complete');
    default:
      return assertNever(state);
  }
}
