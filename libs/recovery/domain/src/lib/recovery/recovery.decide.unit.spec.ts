import { deciderSpec } from '@tessera/testing';
import { validatePolicy } from '../policy/policy';
import { DEFAULT_RECOVERY_POLICY_DOCUMENT } from '../policy/default-policy';
import {
  approve,
  ASSISTED_PATH,
  at,
  cancelByFreeze,
  cancelByLink,
  cancelByStepUp,
  closeReview,
  complete,
  COOLING_OFF_ENDS,
  DAY,
  enrol,
  expire,
  HELPDESK_AGENT,
  history,
  HOUR,
  isoAt,
  issuePass,
  MINUTE,
  NEW_FACTOR,
  OFFICER_1,
  OFFICER_2,
  OFFICER_3,
  PASS_ID,
  PASS_ISSUED_AT,
  POLICY,
  RECOVERY_ID,
  recordEvidence,
  recordOnCallPage,
  redeem,
  reject,
  requestRecovery,
  RESTRICTED_FROM,
  RESTRICTED_UNTIL,
  revokeOld,
  stateOf,
  SUBJECT,
  T0,
} from '../../testing/recovery-fixtures';
import { type RecoveryCommand } from './recovery.commands';
import { recoveryDecider, redeemPass } from './recovery.decide';
import { type RecoveryEvent } from './recovery.state';

const spec = deciderSpec(recoveryDecider);
const version = POLICY.policyVersion;

/** A policy derived from the default document with some settings changed. */
function policyWith(change: (doc: typeof DEFAULT_RECOVERY_POLICY_DOCUMENT) => void, policyVersion = 'test-variant-1') {
  const doc = structuredClone(DEFAULT_RECOVERY_POLICY_DOCUMENT);
  change(doc);
  doc.policyVersion = policyVersion;
  return validatePolicy(doc);
}

describe('recovery decider', () => {
  describe('when not yet requested', () => {

    it('the request also needs a subject: the recovery id and user id are required', () => {
      spec.given([]).when(requestRecovery({ userId: '' })).thenThrows('invalid_command');
    });

    it('S25: a helpdesk request on a ticket opens an assisted recovery awaiting evidence under the current policy', () => {
      spec
        .given([])
        .when(requestRecovery())
        .then([
          {
            type: 'RecoveryRequested',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              kind: 'assisted',
              requestedBy: { kind: 'helpdesk', id: HELPDESK_AGENT, ticketReference: 'TICKET-1001' },
              requestedAt: T0.toISOString(),
              riskSignals: [],
              privileged: false,
              policyVersion: version,
              requiredApprovals: 2,
              evidenceDueBy: isoAt(72 * HOUR),
              lostFactorIds: ['factor-old-totp'],
              onCallPageRequired: false,
              postIncidentReviewRequired: false,
              forcedByIncidentId: null,
              drillId: null,
            },
          },
        ]);
    });

    it('a self-service request records the subject as requester without a ticket', () => {
      const [event] = spec
        .given([])
        .when(requestRecovery({ requestedBy: { kind: 'user', id: SUBJECT } }))
        .thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryRequested', data: { requestedBy: { kind: 'user', id: SUBJECT, ticketReference: null } } });
    });

    it('risk signals are recorded once each, in a canonical order', () => {
      const [event] = spec
        .given([])
        .when(requestRecovery({ riskSignals: ['recent-factor-change', 'new-network', 'recent-factor-change'] }))
        .thenEvents();
      expect(event).toMatchObject({ data: { riskSignals: ['new-network', 'recent-factor-change'] } });
    });

    it('a member of a privileged group is recorded as privileged (the selection rule)', () => {
      const [event] = spec
        .given([])
        .when(requestRecovery({ subjectGroups: ['engineering', 'tessera-admins'] }))
        .thenEvents();
      expect(event).toMatchObject({ data: { privileged: true } });
    });

    it('refuses a self-service request for somebody else', () => {
      spec
        .given([])
        .when(requestRecovery({ requestedBy: { kind: 'user', id: 'user-other' } }))
        .thenThrows('requester_not_subject');
    });

    it('refuses a helpdesk request without a ticket reference', () => {
      spec
        .given([])
        .when(requestRecovery({ requestedBy: { kind: 'helpdesk', id: HELPDESK_AGENT, ticketReference: '  ' } }))
        .thenThrows('ticket_reference_required');
    });

    it('S25: helpdesk staff cannot open a recovery of their own account', () => {
      spec
        .given([])
        .when(requestRecovery({ userId: HELPDESK_AGENT }))
        .thenThrows('requester_is_subject');
    });

    it('refuses an unknown risk signal rather than ignoring it (ignoring it would shorten the cooling-off)', () => {
      spec
        .given([])
        .when(requestRecovery({ riskSignals: ['tor-exit-node' as never] }))
        .thenThrows('unknown_risk_signal');
    });

    it('any command other than a request finds no recovery', () => {
      spec.given([]).when(approve(OFFICER_1, at(HOUR))).thenThrows('recovery_not_found');
    });
  });

  describe('when awaiting evidence', () => {
    const given = ASSISTED_PATH.requested;

    it('a recovery is closed to on-call paging unless its kind requires it', () => {
      spec.given(history(ASSISTED_PATH.requested)).when(recordOnCallPage(at(HOUR))).thenThrows('on_call_page_not_required');
    });

    it('a cancel by freeze needs the incident id', () => {
      spec.given(history(ASSISTED_PATH.requested)).when(cancelByFreeze(at(HOUR), ' ')).thenThrows('invalid_command');
    });

    it('passed identity verification opens the approval window (approval timeout 72 h)', () => {
      spec
        .given(history(given))
        .when(recordEvidence(at(HOUR)))
        .then([
          {
            type: 'RecoveryEvidenceRecorded',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              verifier: { kind: 'idv-webhook', reference: 'idv-check-77' },
              outcome: 'passed',
              recordedAt: isoAt(HOUR),
              approvalDueBy: isoAt(73 * HOUR),
              policyVersion: version,
            },
          },
        ]);
    });

    it('a helpdesk attestation names who attested', () => {
      const [event] = spec
        .given(history(given))
        .when(recordEvidence(at(HOUR), { verifier: { kind: 'helpdesk-attestation', reference: 'att-5', attestedBy: 'helpdesk-agent-2' } }))
        .thenEvents();
      expect(event).toMatchObject({ data: { verifier: { kind: 'helpdesk-attestation', reference: 'att-5', attestedBy: 'helpdesk-agent-2' } } });
    });

    it('failed identity verification rejects the recovery', () => {
      spec
        .given(history(given))
        .when(recordEvidence(at(HOUR), { outcome: 'failed' }))
        .then([
          {
            type: 'RecoveryEvidenceRecorded',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              verifier: { kind: 'idv-webhook', reference: 'idv-check-77' },
              outcome: 'failed',
              recordedAt: isoAt(HOUR),
              approvalDueBy: null,
              policyVersion: version,
            },
          },
          {
            type: 'RecoveryRejected',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              cause: 'evidence-failed',
              rejectedBy: null,
              reason: 'Identity verification failed (idv-webhook idv-check-77)',
              rejectedAt: isoAt(HOUR),
              policyVersion: version,
            },
          },
        ]);
    });

    it('S26: an answer to a security question is not evidence', () => {
      spec
        .given(history(given))
        .when(recordEvidence(at(HOUR), { verifier: { kind: 'security-question', reference: 'mother-maiden-name' } as never }))
        .thenThrows('evidence_kind_not_accepted');
    });

    it('refuses a verifier kind the policy does not accept', () => {
      const idvOnly = policyWith((doc) => {
        doc.kinds.assisted.evidence.acceptedVerifiers = ['idv-webhook'];
      });
      spec
        .given(history([requestRecovery({}, T0, idvOnly)]))
        .when(recordEvidence(at(HOUR), { verifier: { kind: 'helpdesk-attestation', reference: 'att-5', attestedBy: 'helpdesk-agent-2' } }, idvOnly))
        .thenThrows('evidence_kind_not_accepted');
    });

    it('S25: the subject cannot attest to their own identity', () => {
      spec
        .given(history(given))
        .when(recordEvidence(at(HOUR), { verifier: { kind: 'helpdesk-attestation', reference: 'att-5', attestedBy: SUBJECT } }))
        .thenThrows('attester_is_subject');
    });

    it('refuses evidence once its deadline has passed', () => {
      spec.given(history(given)).when(recordEvidence(at(72 * HOUR))).thenThrows('deadline_passed');
    });

    it('approvals wait for evidence', () => {
      spec.given(history(given)).when(approve(OFFICER_1, at(HOUR))).thenThrows('evidence_required');
    });

    it('S25: a pass cannot be issued and the recovery cannot complete without evidence', () => {
      spec.given(history(given)).when(issuePass(at(HOUR))).thenThrows('evidence_required');
      spec.given(history(given)).when(complete(at(30 * DAY))).thenThrows('evidence_required');
    });

    it('an officer may reject before evidence arrives', () => {
      const [event] = spec.given(history(given)).when(reject(OFFICER_1, at(HOUR))).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryRejected', data: { cause: 'officer-decision', rejectedBy: OFFICER_1 } });
    });

    it('refuses a second request for the same recovery', () => {
      spec.given(history(given)).when(requestRecovery()).thenThrows('recovery_already_requested');
    });

    it('refuses a command presenting another policy version (a recovery keeps the rules it started under)', () => {
      const other = policyWith(() => undefined, 'default-2');
      spec.given(history(given)).when(recordEvidence(at(HOUR), {}, other)).thenThrows('policy_version_mismatch');
    });

    it('refuses a command addressed to another recovery', () => {
      spec
        .given(history(given))
        .when({ ...recordEvidence(at(HOUR)), data: { ...recordEvidence(at(HOUR)).data, recoveryId: 'another-recovery' } })
        .thenThrows('recovery_mismatch');
    });

    it('does not expire before the evidence deadline', () => {
      spec.given(history(given)).when(expire(at(72 * HOUR - 1))).thenThrows('deadline_not_reached');
    });

    it('expires at the evidence deadline', () => {
      spec
        .given(history(given))
        .when(expire(at(72 * HOUR)))
        .then([
          {
            type: 'RecoveryExpired',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              stage: 'evidence',
              deadline: isoAt(72 * HOUR),
              expiredAt: isoAt(72 * HOUR),
              passExpiredUnused: false,
              passId: null,
              policyVersion: version,
            },
          },
        ]);
    });
  });

  describe('when awaiting approval', () => {
    const given = ASSISTED_PATH.awaitingApproval;

    it('an approval reason is kept as given, trimmed', () => {
      const command = approve(OFFICER_1, at(2 * HOUR));
      const [event] = spec
        .given(history(ASSISTED_PATH.awaitingApproval))
        .when({ ...command, data: { ...command.data, reason: '  checked passport  ' } })
        .thenEvents();
      expect(event).toMatchObject({ data: { reason: 'checked passport' } });
    });

    it('S25: records one approval short of quorum without starting the cooling-off', () => {
      spec
        .given(history(given))
        .when(approve(OFFICER_1, at(2 * HOUR)))
        .then([
          {
            type: 'RecoveryApproved',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              approverId: OFFICER_1,
              reason: 'Identity verified on a video call',
              approvedAt: isoAt(2 * HOUR),
              approvalsSoFar: 1,
              requiredApprovals: 2,
              quorumReached: false,
              policyVersion: version,
            },
          },
        ]);
    });

    it('S25: quorum exactly at k: the second distinct approval starts the 24 h cooling-off', () => {
      spec
        .given(history(ASSISTED_PATH.oneApproval))
        .when(approve(OFFICER_2, at(3 * HOUR)))
        .then([
          {
            type: 'RecoveryApproved',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              approverId: OFFICER_2,
              reason: 'Identity verified on a video call',
              approvedAt: isoAt(3 * HOUR),
              approvalsSoFar: 2,
              requiredApprovals: 2,
              quorumReached: true,
              policyVersion: version,
            },
          },
          {
            type: 'RecoveryCoolingOffStarted',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              startedAt: isoAt(3 * HOUR),
              endsAt: isoAt(COOLING_OFF_ENDS),
              durationMs: 24 * HOUR,
              extensionsApplied: [],
              capped: false,
              notifyAt: isoAt(COOLING_OFF_ENDS - 6 * HOUR),
              policyVersion: version,
            },
          },
        ]);
    });

    it('S25: k-1 approvals are not a quorum: no pass can be issued', () => {
      spec.given(history(ASSISTED_PATH.oneApproval)).when(issuePass(at(30 * DAY))).thenThrows('quorum_not_reached');
    });

    it('S25: the requester cannot approve', () => {
      spec.given(history(given)).when(approve(HELPDESK_AGENT, at(2 * HOUR))).thenThrows('approver_is_requester');
    });

    it('S25: the subject cannot approve, even holding the security-officer role', () => {
      spec.given(history(given)).when(approve(SUBJECT, at(2 * HOUR))).thenThrows('approver_is_subject');
    });

    it('S25: the helpdesk agent who attested the evidence cannot approve', () => {
      const attested = history([
        requestRecovery(),
        recordEvidence(at(HOUR), { verifier: { kind: 'helpdesk-attestation', reference: 'att-5', attestedBy: OFFICER_3 } }),
      ]);
      spec.given(attested).when(approve(OFFICER_3, at(2 * HOUR))).thenThrows('approver_is_attester');
    });

    it('S25: one vote per approver', () => {
      spec.given(history(ASSISTED_PATH.oneApproval)).when(approve(OFFICER_1, at(3 * HOUR))).thenThrows('duplicate_vote');
    });

    it('S25: an approver who already approved cannot also reject', () => {
      spec.given(history(ASSISTED_PATH.oneApproval)).when(reject(OFFICER_1, at(3 * HOUR))).thenThrows('duplicate_vote');
    });

    it('S25: the approver must hold an allowed role', () => {
      spec.given(history(given)).when(approve(OFFICER_1, at(2 * HOUR), ['helpdesk', 'auditor'])).thenThrows('approver_role_not_allowed');
    });

    it('an approval needs a reason', () => {
      const command = approve(OFFICER_1, at(2 * HOUR));
      spec
        .given(history(given))
        .when({ ...command, data: { ...command.data, reason: ' ' } })
        .thenThrows('reason_required');
    });

    it('S25: a privileged subject needs the privileged quorum', () => {
      const strict = policyWith((doc) => {
        doc.kinds.assisted.approvals.privilegedRequired = 3;
        doc.kinds['break-glass'].approvals.required = 4;
        doc.kinds['break-glass'].approvals.privilegedRequired = 4;
      });
      const privileged = history([
        requestRecovery({ subjectGroups: ['security-officers'] }, T0, strict),
        recordEvidence(at(HOUR), {}, strict),
        approve(OFFICER_1, at(2 * HOUR), undefined, strict),
      ]);
      const [second] = spec.given(privileged).when(approve(OFFICER_2, at(3 * HOUR), undefined, strict)).thenEvents();
      expect(second).toMatchObject({ data: { approvalsSoFar: 2, requiredApprovals: 3, quorumReached: false } });
    });

    it('an officer rejects with a reason', () => {
      spec
        .given(history(given))
        .when(reject(OFFICER_1, at(2 * HOUR)))
        .then([
          {
            type: 'RecoveryRejected',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              cause: 'officer-decision',
              rejectedBy: OFFICER_1,
              reason: 'Caller could not answer the ticket details',
              rejectedAt: isoAt(2 * HOUR),
              policyVersion: version,
            },
          },
        ]);
    });

    it('S25: the subject cannot reject either (votes need distinct officers)', () => {
      spec.given(history(given)).when(reject(SUBJECT, at(2 * HOUR))).thenThrows('approver_is_subject');
    });

    it('refuses an approval after the approval deadline', () => {
      spec.given(history(given)).when(approve(OFFICER_1, at(73 * HOUR))).thenThrows('deadline_passed');
    });

    it('does not expire before the approval deadline', () => {
      spec.given(history(given)).when(expire(at(73 * HOUR - 1))).thenThrows('deadline_not_reached');
    });

    it('expires at the approval deadline', () => {
      spec
        .given(history(given))
        .when(expire(at(73 * HOUR)))
        .then([
          {
            type: 'RecoveryExpired',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              stage: 'approval',
              deadline: isoAt(73 * HOUR),
              expiredAt: isoAt(73 * HOUR),
              passExpiredUnused: false,
              passId: null,
              policyVersion: version,
            },
          },
        ]);
    });

    it('evidence cannot be recorded twice', () => {
      spec.given(history(given)).when(recordEvidence(at(2 * HOUR))).thenThrows('evidence_already_recorded');
    });
  });

  describe('when cooling off', () => {
    const given = ASSISTED_PATH.coolingOff;

    it('an issued pass expires after the policy lifetime from the moment of issue, not from the cooling-off end', () => {
      const [event] = spec.given(history(ASSISTED_PATH.coolingOff)).when(issuePass(at(COOLING_OFF_ENDS + 5 * HOUR))).thenEvents();
      expect(event).toMatchObject({ data: { issuedAt: isoAt(COOLING_OFF_ENDS + 5 * HOUR), expiresAt: isoAt(COOLING_OFF_ENDS + 6 * HOUR) } });
    });

    describe('S25: its length follows the policy and the risk signals', () => {
      const coolingOffFor = (overrides: Parameters<typeof requestRecovery>[0], policy = POLICY) => {
        const events = history([
          requestRecovery(overrides, T0, policy),
          recordEvidence(at(HOUR), {}, policy),
          approve(OFFICER_1, at(2 * HOUR), undefined, policy),
          approve(OFFICER_2, at(3 * HOUR), undefined, policy),
        ]);
        const started = events.find((event) => event.type === 'RecoveryCoolingOffStarted');
        if (started?.type !== 'RecoveryCoolingOffStarted') throw new Error('cooling-off did not start');
        return started.data;
      };

      it('24 h for a standard subject with no risk signal', () => {
        expect(coolingOffFor({})).toMatchObject({ durationMs: 24 * HOUR, extensionsApplied: [], capped: false, endsAt: isoAt(27 * HOUR) });
      });

      it('72 h for a privileged subject', () => {
        expect(coolingOffFor({ subjectGroups: ['tessera-admins'] })).toMatchObject({ durationMs: 72 * HOUR, capped: false });
      });

      it.each([
        ['new-network', 24 * HOUR],
        ['new-device', 24 * HOUR],
        ['recent-factor-change', 48 * HOUR],
      ] as const)('lengthened by the %s extension', (signal, extension) => {
        expect(coolingOffFor({ riskSignals: [signal] })).toMatchObject({ durationMs: 24 * HOUR + extension, extensionsApplied: [signal], capped: false });
      });

      it('all signals together add up (24 + 24 + 24 + 48 h)', () => {
        expect(coolingOffFor({ riskSignals: ['new-network', 'new-device', 'recent-factor-change'] })).toMatchObject({ durationMs: 120 * HOUR, capped: false });
      });

      it('capped at the policy maximum', () => {
        const capped = policyWith((doc) => {
          doc.kinds.assisted.coolingOff.maximum = '4d';
        });
        expect(coolingOffFor({ riskSignals: ['new-network', 'new-device', 'recent-factor-change'] }, capped)).toMatchObject({
          durationMs: 96 * HOUR,
          extensionsApplied: ['new-network', 'new-device', 'recent-factor-change'],
          capped: true,
          endsAt: isoAt(3 * HOUR + 96 * HOUR),
        });
      });
    });

    it('S25: cooling-off cannot be skipped: a pass 1 ms before it ends is refused', () => {
      spec.given(history(given)).when(issuePass(at(COOLING_OFF_ENDS - 1))).thenThrows('cooling_off_not_elapsed');
    });

    it('S25: cooling-off cannot be skipped: completing during it is refused', () => {
      spec.given(history(given)).when(complete(at(COOLING_OFF_ENDS - 1))).thenThrows('cooling_off_not_elapsed');
    });

    it('S25: once it has ended, the pass is issued: its id and expiry only, single use, for enrolment', () => {
      spec
        .given(history(given))
        .when(issuePass(at(COOLING_OFF_ENDS)))
        .then([
          {
            type: 'TemporaryAccessPassIssued',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              passId: PASS_ID,
              issuedAt: isoAt(COOLING_OFF_ENDS),
              expiresAt: isoAt(COOLING_OFF_ENDS + HOUR),
              singleUse: true,
              usableFor: 'factor-enrolment',
              enrolmentDueBy: isoAt(COOLING_OFF_ENDS + 2 * HOUR),
              policyVersion: version,
            },
          },
        ]);
    });

    it('S25: a cancel arriving at coolingOffEndsAt - 1 ms wins', () => {
      spec
        .given(history(given))
        .when(cancelByStepUp(at(COOLING_OFF_ENDS - 1)))
        .then([
          {
            type: 'RecoveryCancelled',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              via: 'step-up',
              cancelledBy: SUBJECT,
              cancelledAt: isoAt(COOLING_OFF_ENDS - 1),
              stageAtCancel: 'cooling-off',
              incidentSuspected: false,
              incidentId: null,
              toRevoke: { passId: null, factorIds: [] },
              policyVersion: version,
            },
          },
        ]);
    });

    it('S25: after that cancel, issuing the pass or completing is refused', () => {
      const cancelled = history([...given, cancelByStepUp(at(COOLING_OFF_ENDS - 1))]);
      spec.given(cancelled).when(issuePass(at(COOLING_OFF_ENDS))).thenThrows('recovery_terminal');
      spec.given(cancelled).when(complete(at(RESTRICTED_UNTIL))).thenThrows('recovery_terminal');
    });

    it('S25: a "this wasn\'t me" link cancels and marks an incident', () => {
      spec
        .given(history(given))
        .when(cancelByLink(at(5 * HOUR)))
        .then([
          {
            type: 'RecoveryCancelled',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              via: 'wasnt-me-link',
              cancelledBy: SUBJECT,
              cancelledAt: isoAt(5 * HOUR),
              stageAtCancel: 'cooling-off',
              incidentSuspected: true,
              incidentId: null,
              toRevoke: { passId: null, factorIds: [] },
              policyVersion: version,
            },
          },
        ]);
    });

    it('refuses a link issued for another recovery', () => {
      spec.given(history(given)).when(cancelByLink(at(5 * HOUR), { recoveryId: 'another-recovery' })).thenThrows('cancel_link_mismatch');
    });

    it('refuses an expired link', () => {
      spec.given(history(given)).when(cancelByLink(at(5 * HOUR), { expiresAt: at(5 * HOUR) })).thenThrows('cancel_link_expired');
    });

    it('refuses a step-up by someone other than the subject', () => {
      spec.given(history(given)).when(cancelByStepUp(at(5 * HOUR), { userId: 'user-other' })).thenThrows('step_up_not_subject');
    });

    it('S25: a step-up with a factor the request called lost still cancels (the requester may be the attacker)', () => {
      const [event] = spec.given(history(given)).when(cancelByStepUp(at(5 * HOUR), { factorId: 'factor-old-totp', method: 'totp' })).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryCancelled', data: { via: 'step-up', cancelledBy: SUBJECT } });
    });

    it('refuses a step-up older than the policy allows (10 min)', () => {
      spec
        .given(history(given))
        .when(cancelByStepUp(at(5 * HOUR), { verifiedAt: at(5 * HOUR - 10 * MINUTE - 1) }))
        .thenThrows('step_up_stale');
    });

    it('accepts an SMS step-up where the policy allows it (assisted default)', () => {
      const [event] = spec.given(history(given)).when(cancelByStepUp(at(5 * HOUR), { method: 'sms' })).thenEvents();
      expect(event.type).toBe('RecoveryCancelled');
    });

    it('a freeze by an incident cancels and names the incident', () => {
      const [event] = spec.given(history(given)).when(cancelByFreeze(at(5 * HOUR), 'incident-9')).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryCancelled', data: { via: 'account-frozen', cancelledBy: null, incidentId: 'incident-9', incidentSuspected: false } });
    });

    it('refuses further approvals', () => {
      spec.given(history(given)).when(approve(OFFICER_3, at(4 * HOUR))).thenThrows('quorum_already_reached');
    });

    it('a third officer may still reject during the cooling-off', () => {
      const [event] = spec.given(history(given)).when(reject(OFFICER_3, at(4 * HOUR))).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryRejected', data: { rejectedBy: OFFICER_3 } });
    });

    it('nothing expires: the cooling-off waits for time, not people', () => {
      spec.given(history(given)).when(expire(at(30 * DAY))).thenThrows('nothing_to_expire');
    });

    it('S32: refuses a pass id that is not a UUID (a pass secret cannot ride in the id field)', () => {
      spec.given(history(given)).when(issuePass(at(COOLING_OFF_ENDS), 'TAP-7QX2-PLMK-99ZA')).thenThrows('invalid_pass_id');
    });
  });

  describe('when the pass is issued', () => {
    const given = ASSISTED_PATH.passIssued;

    it('S25: the pass is redeemed once within its lifetime', () => {
      spec
        .given(history(given))
        .when(redeem(at(PASS_ISSUED_AT + HOUR - 1)))
        .then([{ type: 'TemporaryAccessPassRedeemed', data: { recoveryId: RECOVERY_ID, userId: SUBJECT, passId: PASS_ID, redeemedAt: isoAt(PASS_ISSUED_AT + HOUR - 1) } }]);
    });

    it('S25: the pass is single use: a second redemption is refused', () => {
      spec.given(history(ASSISTED_PATH.passRedeemed)).when(redeem(at(PASS_ISSUED_AT + 11 * MINUTE))).thenThrows('pass_already_used');
    });

    it('S25: the pass expires: redeeming it at its expiry is refused', () => {
      spec.given(history(given)).when(redeem(at(PASS_ISSUED_AT + HOUR))).thenThrows('pass_expired');
    });

    it('S25: redeemPass(state, passId, now) applies the same rules', () => {
      const state = stateOf(history(given));
      expect(redeemPass(state, PASS_ID, at(PASS_ISSUED_AT))).toHaveLength(1);
      expect(() => redeemPass(state, PASS_ID, at(PASS_ISSUED_AT + HOUR))).toThrow(expect.objectContaining({ code: 'pass_expired' }));
      expect(() => redeemPass(state, '01950000-0000-7000-8000-00000000beef', at(PASS_ISSUED_AT))).toThrow(expect.objectContaining({ code: 'pass_unknown' }));
      const spent = stateOf(history(ASSISTED_PATH.passRedeemed));
      expect(() => redeemPass(spent, PASS_ID, at(PASS_ISSUED_AT + 11 * MINUTE))).toThrow(expect.objectContaining({ code: 'pass_already_used' }));
    });

    it('refuses a pass this recovery did not issue', () => {
      spec.given(history(given)).when(redeem(at(PASS_ISSUED_AT), '01950000-0000-7000-8000-00000000beef')).thenThrows('pass_unknown');
    });

    it('S21: a factor cannot be enrolled before the pass is redeemed', () => {
      spec.given(history(given)).when(enrol(at(PASS_ISSUED_AT + 5 * MINUTE))).thenThrows('pass_not_redeemed');
    });

    it('S21: a factor enrolled with the redeemed pass is recorded', () => {
      spec
        .given(history(ASSISTED_PATH.passRedeemed))
        .when(enrol(at(PASS_ISSUED_AT + 20 * MINUTE)))
        .then([
          {
            type: 'RecoveryFactorEnrolled',
            data: { recoveryId: RECOVERY_ID, userId: SUBJECT, factorId: NEW_FACTOR, factorKind: 'webauthn', passId: PASS_ID, enrolledAt: isoAt(PASS_ISSUED_AT + 20 * MINUTE) },
          },
        ]);
    });

    it('the pass enrols TOTP or WebAuthn only, never a restricted SMS channel', () => {
      spec
        .given(history(ASSISTED_PATH.passRedeemed))
        .when(enrol(at(PASS_ISSUED_AT + 20 * MINUTE), { factorKind: 'sms' as never }))
        .thenThrows('factor_kind_not_allowed');
    });

    it('refuses enrolment after the enrolment deadline', () => {
      spec.given(history(ASSISTED_PATH.passRedeemed)).when(enrol(at(PASS_ISSUED_AT + 2 * HOUR))).thenThrows('deadline_passed');
    });

    it('an unredeemed pass expires the recovery when it lapses', () => {
      spec
        .given(history(given))
        .when(expire(at(PASS_ISSUED_AT + HOUR)))
        .then([
          {
            type: 'RecoveryExpired',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              stage: 'enrolment',
              deadline: isoAt(PASS_ISSUED_AT + HOUR),
              expiredAt: isoAt(PASS_ISSUED_AT + HOUR),
              passExpiredUnused: true,
              passId: PASS_ID,
              policyVersion: version,
            },
          },
        ]);
    });

    it('a redeemed pass leaves until the enrolment deadline', () => {
      spec.given(history(ASSISTED_PATH.passRedeemed)).when(expire(at(PASS_ISSUED_AT + HOUR))).thenThrows('deadline_not_reached');
      const [event] = spec.given(history(ASSISTED_PATH.passRedeemed)).when(expire(at(PASS_ISSUED_AT + 2 * HOUR))).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryExpired', data: { stage: 'enrolment', deadline: isoAt(PASS_ISSUED_AT + 2 * HOUR), passExpiredUnused: false } });
    });

    it('S25: a cancel still wins and names the pass to withdraw', () => {
      const [event] = spec.given(history(given)).when(cancelByStepUp(at(PASS_ISSUED_AT + MINUTE))).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryCancelled', data: { stageAtCancel: 'pass-issued', toRevoke: { passId: PASS_ID, factorIds: [] } } });
    });

    it('a second pass is refused', () => {
      spec.given(history(given)).when(issuePass(at(PASS_ISSUED_AT + MINUTE))).thenThrows('pass_already_issued');
    });

    it('completion needs an enrolment first', () => {
      spec.given(history(given)).when(complete(at(RESTRICTED_UNTIL))).thenThrows('enrolment_required');
    });

    it('rejecting is too late once a pass exists (an incident freeze is the way)', () => {
      spec.given(history(given)).when(reject(OFFICER_3, at(PASS_ISSUED_AT + MINUTE))).thenThrows('too_late_to_reject');
    });
  });

  describe('when enrolled', () => {
    const given = ASSISTED_PATH.enrolled;

    it('revokes every old factor (policy: all) and starts the 7-day restricted period', () => {
      spec
        .given(history(given))
        .when(revokeOld(at(RESTRICTED_FROM)))
        .then([
          {
            type: 'RecoveryOldFactorsRevoked',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              scope: 'all',
              revokedFactorIds: ['factor-old-totp', 'factor-old-key'],
              revokedAt: isoAt(RESTRICTED_FROM),
              restrictedUntil: isoAt(RESTRICTED_UNTIL),
              policyVersion: version,
            },
          },
        ]);
    });

    it('revokes only the factors reported lost under a lost-only policy', () => {
      const lostOnly = policyWith((doc) => {
        doc.kinds.assisted.revokeOldFactors = 'lost-only';
      });
      const events = history([
        requestRecovery({}, T0, lostOnly),
        recordEvidence(at(HOUR), {}, lostOnly),
        approve(OFFICER_1, at(2 * HOUR), undefined, lostOnly),
        approve(OFFICER_2, at(3 * HOUR), undefined, lostOnly),
        issuePass(at(PASS_ISSUED_AT), PASS_ID, lostOnly),
        redeem(at(PASS_ISSUED_AT + MINUTE), PASS_ID, lostOnly),
        enrol(at(PASS_ISSUED_AT + 2 * MINUTE), {}, lostOnly),
      ]);
      const [event] = spec.given(events).when(revokeOld(at(RESTRICTED_FROM), undefined, lostOnly)).thenEvents();
      expect(event).toMatchObject({ data: { scope: 'lost-only', revokedFactorIds: ['factor-old-totp'] } });
    });

    it('a retried enrolment of the same factor records nothing new', () => {
      spec.given(history(given)).when(enrol(at(PASS_ISSUED_AT + 25 * MINUTE))).then([]);
    });

    it('S25: the spent pass cannot be redeemed again', () => {
      spec.given(history(given)).when(redeem(at(PASS_ISSUED_AT + 25 * MINUTE))).thenThrows('pass_already_used');
    });

    it('completion needs the old factors revoked first', () => {
      spec.given(history(given)).when(complete(at(RESTRICTED_UNTIL))).thenThrows('old_factors_not_revoked');
    });

    it('S25: a "this wasn\'t me" cancel still wins and lists what to take back', () => {
      const [event] = spec.given(history(given)).when(cancelByLink(at(PASS_ISSUED_AT + 25 * MINUTE))).thenEvents();
      expect(event).toMatchObject({
        type: 'RecoveryCancelled',
        data: { stageAtCancel: 'enrolled', incidentSuspected: true, toRevoke: { passId: PASS_ID, factorIds: [NEW_FACTOR] } },
      });
    });
  });

  describe('when restricted', () => {
    const given = ASSISTED_PATH.restricted;

    it('the whole assisted path ends completed, with no review to hold it open', () => {
      expect(stateOf(history(ASSISTED_PATH.completed))).toMatchObject({ status: 'completed', completedAt: isoAt(RESTRICTED_UNTIL), review: 'not-required' });
    });

    it('refuses completion before the restricted period ends', () => {
      spec.given(history(given)).when(complete(at(RESTRICTED_UNTIL - 1))).thenThrows('restricted_period_not_elapsed');
    });

    it('completes when the restricted period ends', () => {
      spec
        .given(history(given))
        .when(complete(at(RESTRICTED_UNTIL)))
        .then([
          {
            type: 'RecoveryCompleted',
            data: {
              recoveryId: RECOVERY_ID,
              userId: SUBJECT,
              kind: 'assisted',
              approverIds: [OFFICER_1, OFFICER_2],
              enrolledFactorIds: [NEW_FACTOR],
              completedAt: isoAt(RESTRICTED_UNTIL),
              policyVersion: version,
            },
          },
        ]);
    });

    it('S21: no more factors are enrolled through the recovery', () => {
      spec.given(history(given)).when(enrol(at(RESTRICTED_FROM + MINUTE), { factorId: 'factor-extra' })).thenThrows('enrolment_closed');
    });

    it('S25: a cancel before completion still wins', () => {
      const [event] = spec.given(history(given)).when(cancelByLink(at(RESTRICTED_UNTIL - 1))).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryCancelled', data: { stageAtCancel: 'restricted', toRevoke: { passId: PASS_ID, factorIds: [NEW_FACTOR] } } });
    });

    it('S25: completion re-checks the cooling-off, whatever the history says (defence in depth)', () => {
      const forged: RecoveryEvent[] = history(given).map((event) =>
        event.type === 'RecoveryCoolingOffStarted' ? { ...event, data: { ...event.data, endsAt: isoAt(RESTRICTED_UNTIL + DAY) } } : event,
      );
      spec.given(forged).when(complete(at(RESTRICTED_UNTIL))).thenThrows('cooling_off_not_elapsed');
    });
  });

  describe('when ended (completed, cancelled, rejected, expired)', () => {
    const ended = {
      completed: history(ASSISTED_PATH.completed),
      cancelled: history([...ASSISTED_PATH.coolingOff, cancelByStepUp(at(4 * HOUR))]),
      rejected: history([...ASSISTED_PATH.awaitingApproval, reject(OFFICER_1, at(2 * HOUR))]),
      expired: history([...ASSISTED_PATH.requested, expire(at(72 * HOUR))]),
    };
    const later = at(RESTRICTED_UNTIL + DAY);
    const everyCommand: RecoveryCommand[] = [
      recordEvidence(later),
      approve(OFFICER_3, later),
      reject(OFFICER_3, later),
      recordOnCallPage(later),
      cancelByStepUp(later),
      cancelByLink(later),
      cancelByFreeze(later),
      issuePass(later),
      redeem(later),
      enrol(later),
      revokeOld(later),
      complete(later),
      expire(later),
    ];

    it.each(Object.keys(ended) as (keyof typeof ended)[])('%s: every command is refused as terminal', (status) => {
      expect(stateOf(ended[status]).status).toBe(status);
      for (const command of everyCommand) spec.given(ended[status]).when(command).thenThrows('recovery_terminal');
      spec.given(ended[status]).when(requestRecovery()).thenThrows('recovery_already_requested');
      spec.given(ended[status]).when(closeReview(OFFICER_3, later)).thenThrows('review_not_open');
    });
  });

  describe('the account is frozen', () => {
    it('refuses a recovery while an incident freezes the account', () => {
      spec
        .given([])
        .when(requestRecovery({ accountFreeze: { incidentId: 'incident-9', forcedRecoveryId: null } }))
        .thenThrows('account_frozen');
    });

    it('lets through the one assisted recovery the incident forced, and records the incident', () => {
      const [event] = spec
        .given([])
        .when(requestRecovery({ accountFreeze: { incidentId: 'incident-9', forcedRecoveryId: RECOVERY_ID } }))
        .thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryRequested', data: { forcedByIncidentId: 'incident-9' } });
    });

    it('refuses a break-glass recovery or another recovery id even when one was forced', () => {
      spec
        .given([])
        .when(requestRecovery({ kind: 'break-glass', accountFreeze: { incidentId: 'incident-9', forcedRecoveryId: RECOVERY_ID } }))
        .thenThrows('account_frozen');
      spec
        .given([])
        .when(requestRecovery({ accountFreeze: { incidentId: 'incident-9', forcedRecoveryId: 'another-recovery' } }))
        .thenThrows('account_frozen');
    });
  });

});
