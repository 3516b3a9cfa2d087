import { deciderSpec } from '@tessera/testing';
import {
  approve,
  at,
  cancelByStepUp,
  closeReview,
  complete,
  DAY,
  enrol,
  expire,
  HELPDESK_AGENT,
  history,
  HOUR,
  isoAt,
  issuePass,
  MINUTE,
  OFFICER_1,
  OFFICER_2,
  OFFICER_3,
  OFFICER_4,
  RECOVERY_ID,
  recordEvidence,
  recordOnCallPage,
  redeem,
  requestRecovery,
  revokeOld,
  stateOf,
  SUBJECT,
} from '../../testing/recovery-fixtures';
import { recoveryDecider } from './recovery.decide';

const spec = deciderSpec(recoveryDecider);

// Break-glass with the default policy: 3 approvals, cooling-off 4 h, on-call paged, a review.
const requested = [requestRecovery({ kind: 'break-glass' })];
const awaitingApproval = [...requested, recordEvidence(at(HOUR))];
const twoApprovals = [...awaitingApproval, approve(OFFICER_1, at(2 * HOUR)), approve(OFFICER_2, at(3 * HOUR))];
const coolingOff = [...twoApprovals, approve(OFFICER_3, at(4 * HOUR))];
const COOLING_OFF_ENDS = 8 * HOUR;
const paged = [...coolingOff, recordOnCallPage(at(4 * HOUR + MINUTE))];
const completed = [
  ...paged,
  issuePass(at(COOLING_OFF_ENDS)),
  redeem(at(COOLING_OFF_ENDS + MINUTE)),
  enrol(at(COOLING_OFF_ENDS + 2 * MINUTE)),
  revokeOld(at(COOLING_OFF_ENDS + 3 * MINUTE)),
  complete(at(COOLING_OFF_ENDS + 3 * MINUTE + 7 * DAY)),
];
const afterwards = at(COOLING_OFF_ENDS + 8 * DAY);

describe('break-glass recovery', () => {
  describe('when not yet requested', () => {
    it('opens with a stricter quorum, an on-call page to make and a post-incident review', () => {
      const [event] = spec.given([]).when(requestRecovery({ kind: 'break-glass' })).thenEvents();
      expect(event).toMatchObject({
        type: 'RecoveryRequested',
        data: { kind: 'break-glass', requiredApprovals: 3, onCallPageRequired: true, postIncidentReviewRequired: true, evidenceDueBy: isoAt(24 * HOUR) },
      });
      expect(stateOf(history(requested))).toMatchObject({ review: 'open', onCallPagedAt: null });
    });
  });

  describe('when awaiting approval', () => {
    it('S25: two approvals, enough for assisted recovery, are not a break-glass quorum', () => {
      const state = stateOf(history(twoApprovals));
      expect(state.status).toBe('awaiting-approval');
      spec.given(history(twoApprovals)).when(issuePass(at(30 * DAY))).thenThrows('quorum_not_reached');
    });

    it('S25: the third distinct approval reaches quorum and starts the 4 h break-glass cooling-off', () => {
      const events = spec.given(history(twoApprovals)).when(approve(OFFICER_3, at(4 * HOUR))).thenEvents();
      expect(events.map((event) => event.type)).toEqual(['RecoveryApproved', 'RecoveryCoolingOffStarted']);
      expect(events[1]).toMatchObject({ data: { durationMs: 4 * HOUR, endsAt: isoAt(COOLING_OFF_ENDS), notifyAt: isoAt(COOLING_OFF_ENDS - HOUR) } });
    });

    it('S25: the requester is still excluded from the quorum', () => {
      spec.given(history(twoApprovals)).when(approve(HELPDESK_AGENT, at(4 * HOUR))).thenThrows('approver_is_requester');
    });
  });

  describe('when cooling off', () => {
    it('records the on-call page once; a retried page records nothing', () => {
      spec
        .given(history(coolingOff))
        .when(recordOnCallPage(at(4 * HOUR + MINUTE)))
        .then([{ type: 'RecoveryOnCallPaged', data: { recoveryId: RECOVERY_ID, userId: SUBJECT, pageReference: 'PAGE-42', pagedAt: isoAt(4 * HOUR + MINUTE) } }]);
      spec.given(history(paged)).when(recordOnCallPage(at(5 * HOUR))).then([]);
    });

    it('no pass until on-call has been paged, even after the cooling-off', () => {
      spec.given(history(coolingOff)).when(issuePass(at(COOLING_OFF_ENDS))).thenThrows('on_call_not_paged');
    });

    it('S25: cooling-off still cannot be skipped once paged', () => {
      spec.given(history(paged)).when(issuePass(at(COOLING_OFF_ENDS - 1))).thenThrows('cooling_off_not_elapsed');
    });

    it('issues the pass once paged and the cooling-off is over', () => {
      const [event] = spec.given(history(paged)).when(issuePass(at(COOLING_OFF_ENDS))).thenEvents();
      expect(event.type).toBe('TemporaryAccessPassIssued');
    });

    it('the policy refuses SMS and email for cancelling a break-glass recovery; other factors still cancel', () => {
      spec.given(history(paged)).when(cancelByStepUp(at(5 * HOUR), { method: 'sms' })).thenThrows('restricted_channel_not_allowed');
      spec.given(history(paged)).when(cancelByStepUp(at(5 * HOUR), { method: 'email' })).thenThrows('restricted_channel_not_allowed');
      const [event] = spec.given(history(paged)).when(cancelByStepUp(at(5 * HOUR), { method: 'totp' })).thenEvents();
      expect(event.type).toBe('RecoveryCancelled');
    });
  });

  describe('post-incident review', () => {
    it('stays open after the recovery completed', () => {
      expect(stateOf(history(completed))).toMatchObject({ status: 'completed', review: 'open' });
    });

    it('cannot be closed while the recovery is still under way', () => {
      spec.given(history(paged)).when(closeReview(OFFICER_4, at(5 * HOUR))).thenThrows('recovery_still_active');
    });

    it('is closed by a security officer outside the recovery', () => {
      spec
        .given(history(completed))
        .when(closeReview(OFFICER_4, afterwards))
        .then([
          {
            type: 'PostIncidentReviewClosed',
            data: { recoveryId: RECOVERY_ID, userId: SUBJECT, reviewerId: OFFICER_4, findingsReference: 'PIR-2026-007', closedAt: afterwards.toISOString() },
          },
        ]);
    });

    it('is also required when the break-glass recovery ended without completing', () => {
      const expired = history([...requested, expire(at(24 * HOUR))]);
      expect(stateOf(expired)).toMatchObject({ status: 'expired', review: 'open' });
      const [event] = spec.given(expired).when(closeReview(OFFICER_4, afterwards)).thenEvents();
      expect(event.type).toBe('PostIncidentReviewClosed');
    });

    it('cannot be closed by the subject, the requester or someone without the role', () => {
      spec.given(history(completed)).when(closeReview(SUBJECT, afterwards)).thenThrows('reviewer_is_subject');
      spec.given(history(completed)).when(closeReview(HELPDESK_AGENT, afterwards)).thenThrows('reviewer_is_requester');
      spec.given(history(completed)).when(closeReview(OFFICER_4, afterwards, ['helpdesk'])).thenThrows('reviewer_role_not_allowed');
    });

    it('closes once; nothing else happens to the recovery after it', () => {
      const closed = history([...completed, closeReview(OFFICER_4, afterwards)]);
      expect(stateOf(closed)).toMatchObject({ status: 'completed', review: 'closed' });
      spec.given(closed).when(closeReview(OFFICER_1, afterwards)).thenThrows('review_not_open');
      spec.given(closed).when(approve(OFFICER_4, afterwards)).thenThrows('recovery_terminal');
    });
  });
});
