import { RECOVERY_ENROLMENT_FACTOR_KINDS, RECOVERY_ACTIVE_STAGES, RISK_SIGNALS, temporaryAccessPassIssuedDataSchema } from '@tessera/contracts';
import { assertNever, type Decider, DomainError } from '@tessera/event-sourcing';
import { coolingOffFor, isPrivilegedSubject, type RecoveryPolicy, type RecoveryRules, rulesFor } from '../policy/policy';
import {
  type ApproveRecovery,
  type CancelRecovery,
  type ClosePostIncidentReview,
  type CompleteRecovery,
  type ExpireRecovery,
  type IssueTemporaryAccessPass,
  type RecordEnrolment,
  type RecordEvidence,
  type RecordOnCallPage,
  type RecoveryCommand,
  type RejectRecovery,
  type RequestRecovery,
  type RevokeOldFactors,
} from './recovery.commands';
import {
  type ActiveRecovery,
  type EndedRecovery,
  type Enrolled,
  type EvidenceVerifier,
  evolve,
  initialRecoveryState,
  isTerminal,
  type RecoveryCancelled,
  type RecoveryEvent,
  type RecoveryRequested,
  type RecoveryState,
  type TemporaryAccessPassRedeemed,
} from './recovery.state';

/**
 * The recovery decider: every rule of assisted and break-glass recovery (DESIGN.md rungs 4 and 5;
 * SECURITY.md S21, S25, S26). A workflow only waits and calls activities; whether a step may happen is
 * decided here, from the recovery's events, the command and the policy version it started under.
 *
 * NIST SP 800-63B-4 §4.2 (account recovery) frames it: recovery binds a new authenticator only after
 * the subscriber's identity is re-established, notifies the subscriber, and must not become the easy
 * way around the authenticators it replaces. Hence evidence before approvals, distinct approvers, a
 * cooling-off the real user can cancel in, and a single-use, short-lived pass good only for enrolment.
 */
export function decide(command: RecoveryCommand, state: RecoveryState): readonly RecoveryEvent[] {
  if (command.type === 'RequestRecovery') return requestRecovery(command, state);
  if (state.status === 'not-requested') throw new DomainError('recovery_not_found', 'No such recovery', 'not_found');
  if (command.data.recoveryId !== state.recoveryId) {
    throw new DomainError('recovery_mismatch', `Command for recovery ${command.data.recoveryId} sent to recovery ${state.recoveryId}`, 'invalid');
  }
  if (command.type === 'ClosePostIncidentReview') return closePostIncidentReview(command, state);
  // Nothing happens to a recovery once it has ended; a late approval, pass or completion is refused.
  if (isTerminal(state)) throw new DomainError('recovery_terminal', `The recovery is ${state.status}; nothing more can happen to it`);
  const rules = rulesOf(command.metadata.policy, state);
  const now = command.metadata.now;

  switch (command.type) {
    case 'RecordEvidence':
      return recordEvidence(command, state, rules, now);
    case 'ApproveRecovery':
      return approve(command, state, rules, now);
    case 'RejectRecovery':
      return reject(command, state, rules, now);
    case 'RecordOnCallPage':
      return recordOnCallPage(command, state, now);
    case 'CancelRecovery':
      return cancel(command, state, rules, now);
    case 'IssueTemporaryAccessPass':
      return issuePass(command, state, rules, now);
    case 'RedeemTemporaryAccessPass':
      return redeemPass(state, command.data.passId, now);
    case 'RecordEnrolment':
      return recordEnrolment(command, state, now);
    case 'RevokeOldFactors':
      return revokeOldFactors(command, state, rules, now);
    case 'CompleteRecovery':
      return complete(command, state, now);
    case 'ExpireRecovery':
      return expire(command, state, now);
    default:
      return assertNever(command);
  }
}

export const recoveryDecider: Decider<RecoveryCommand, RecoveryEvent, RecoveryState> = {
  decide,
  evolve,
  initialState: initialRecoveryState,
};

/**
 * Redeems the Temporary Access Pass (S25): only the pass this recovery issued, only once, only before it
 * expires. auth-service checks the secret against its hash first; this rule decides whether that pass
 * may still be used at all. The returned event is what makes the pass spent.
 */
export function redeemPass(state: RecoveryState, passId: string, now: Date): readonly TemporaryAccessPassRedeemed[] {
  if (state.status === 'not-requested') throw new DomainError('recovery_not_found', 'No such recovery', 'not_found');
  if (isTerminal(state)) throw new DomainError('recovery_terminal', `The recovery is ${state.status}; its pass is void`, 'forbidden');
  if (state.status !== 'pass-issued' && state.status !== 'enrolled' && state.status !== 'restricted') {
    throw new DomainError('pass_not_issued', 'No pass has been issued for this recovery', 'forbidden');
  }
  if (state.pass.passId !== passId) throw new DomainError('pass_unknown', 'This pass does not belong to this recovery', 'forbidden');
  if (state.pass.redeemedAt !== null) throw new DomainError('pass_already_used', 'The pass has already been used', 'forbidden');
  if (now.getTime() >= Date.parse(state.pass.expiresAt)) throw new DomainError('pass_expired', 'The pass has expired', 'forbidden');
  return [{ type: 'TemporaryAccessPassRedeemed', data: { recoveryId: state.recoveryId, userId: state.userId, passId, redeemedAt: iso(now) } }];
}

/**
 * Which of the subject's current factors the recovery revokes: every factor that is not one it just
 * enrolled (`all`), or only those the subject reported lost (`lost-only`).
 */
export function factorsToRevoke(state: Enrolled, rules: RecoveryRules, currentFactorIds: readonly string[]): readonly string[] {
  const old = [...new Set(currentFactorIds)].filter((id) => !state.enrolledFactorIds.includes(id));
  return rules.revokeOldFactors === 'all' ? old : old.filter((id) => state.lostFactorIds.includes(id));
}

/** The rules of this recovery; refuses a policy other than the version the recovery started under. */
export function rulesOf(policy: RecoveryPolicy, state: ActiveRecovery | EndedRecovery): RecoveryRules {
  if (policy.policyVersion !== state.policyVersion) {
    throw new DomainError(
      'policy_version_mismatch',
      `The recovery runs under policy ${state.policyVersion}; policy ${policy.policyVersion} was presented`,
      'conflict',
    );
  }
  return rulesFor(policy, state.kind, state.privileged);
}

function requestRecovery(command: RequestRecovery, state: RecoveryState): RecoveryRequested[] {
  const { data, metadata } = command;
  const { now, policy } = metadata;
  if (state.status !== 'not-requested') throw new DomainError('recovery_already_requested', 'This recovery was already requested');
  requireText(data.recoveryId, 'recoveryId');
  requireText(data.userId, 'userId');

  const requester = data.requestedBy;
  requireText(requester.id, 'requestedBy.id');
  if (requester.kind === 'user' && requester.id !== data.userId) {
    throw new DomainError('requester_not_subject', 'A self-service recovery can only be requested by its subject', 'forbidden');
  }
  if (requester.kind === 'helpdesk') {
    requireText(requester.ticketReference, 'requestedBy.ticketReference', 'ticket_reference_required');
    if (requester.id === data.userId) {
      throw new DomainError('requester_is_subject', 'Helpdesk staff cannot open an assisted recovery for their own account', 'forbidden');
    }
  }

  let forcedByIncidentId: string | null = null;
  if (data.accountFreeze !== null) {
    const { incidentId, forcedRecoveryId } = data.accountFreeze;
    if (forcedRecoveryId !== data.recoveryId || data.kind !== 'assisted') {
      // DESIGN.md "Incident response": a frozen account takes no recoveries but the one its incident forced.
      throw new DomainError('account_frozen', `The account is frozen by incident ${incidentId}`, 'forbidden');
    }
    forcedByIncidentId = incidentId;
  }

  if (policy.drill !== null && (data.drillId === null || !data.syntheticTestAccount)) {
    // Drill timers are shortened a thousandfold; on a real account that would erase the cooling-off.
    throw new DomainError('drill_policy_on_real_account', 'A drill policy applies to drills on synthetic test accounts only', 'forbidden');
  }
  if (data.drillId !== null) {
    if (!data.syntheticTestAccount) throw new DomainError('drill_requires_synthetic_account', 'Drills run on synthetic test accounts only', 'forbidden');
    if (data.kind !== 'assisted') throw new DomainError('drill_must_be_assisted', 'A drill exercises assisted recovery', 'invalid');
  }

  const unknownSignal = data.riskSignals.find((signal) => !(RISK_SIGNALS as readonly string[]).includes(signal));
  if (unknownSignal !== undefined) {
    // Ignoring a signal would shorten the cooling-off it was meant to lengthen.
    throw new DomainError('unknown_risk_signal', `Unknown risk signal "${unknownSignal}"`, 'invalid');
  }

  const privileged = isPrivilegedSubject(policy, { userId: data.userId, groups: data.subjectGroups });
  const rules = rulesFor(policy, data.kind, privileged);
  return [
    {
      type: 'RecoveryRequested',
      data: {
        recoveryId: data.recoveryId,
        userId: data.userId,
        kind: data.kind,
        requestedBy: requester.kind === 'user' ? { kind: 'user', id: requester.id, ticketReference: null } : { kind: 'helpdesk', id: requester.id, ticketReference: requester.ticketReference },
        requestedAt: iso(now),
        riskSignals: RISK_SIGNALS.filter((signal) => data.riskSignals.includes(signal)),
        privileged,
        policyVersion: policy.policyVersion,
        requiredApprovals: rules.requiredApprovals,
        evidenceDueBy: plus(now, rules.evidenceTimeoutMs),
        lostFactorIds: [...new Set(data.lostFactorIds)],
        onCallPageRequired: rules.onCallPageRequired,
        postIncidentReviewRequired: rules.postIncidentReviewRequired,
        forcedByIncidentId,
        drillId: data.drillId,
      },
    },
  ];
}

function recordEvidence(command: RecordEvidence, state: ActiveRecovery, rules: RecoveryRules, now: Date): RecoveryEvent[] {
  if (state.status !== 'awaiting-evidence') throw new DomainError('evidence_already_recorded', 'Identity evidence was already recorded for this recovery');
  if (!isBefore(now, state.evidenceDueBy)) throw new DomainError('deadline_passed', 'The time for evidence has run out');
  const input = command.data.verifier;
  // S26: only identity verification counts; a knowledge-based answer is not a verifier kind at all.
  if (!rules.acceptedVerifiers.includes(input.kind)) {
    throw new DomainError('evidence_kind_not_accepted', `Evidence of kind "${String(input.kind)}" is not accepted by this policy`, 'invalid');
  }
  requireText(input.reference, 'verifier.reference');
  let verifier: EvidenceVerifier;
  if (input.kind === 'helpdesk-attestation') {
    requireText(input.attestedBy, 'verifier.attestedBy');
    if (input.attestedBy === state.userId) throw new DomainError('attester_is_subject', 'Subjects cannot attest to their own identity', 'forbidden');
    verifier = { kind: 'helpdesk-attestation', reference: input.reference, attestedBy: input.attestedBy };
  } else {
    verifier = { kind: 'idv-webhook', reference: input.reference };
  }

  const base = { recoveryId: state.recoveryId, userId: state.userId, verifier, recordedAt: iso(now), policyVersion: state.policyVersion };
  if (command.data.outcome === 'passed') {
    return [{ type: 'RecoveryEvidenceRecorded', data: { ...base, outcome: 'passed', approvalDueBy: plus(now, rules.approvalTimeoutMs) } }];
  }
  return [
    { type: 'RecoveryEvidenceRecorded', data: { ...base, outcome: 'failed', approvalDueBy: null } },
    {
      type: 'RecoveryRejected',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        cause: 'evidence-failed',
        rejectedBy: null,
        reason: `Identity verification failed (${verifier.kind} ${verifier.reference})`,
        rejectedAt: iso(now),
        policyVersion: state.policyVersion,
      },
    },
  ];
}

/**
 * S25 separation of duties: the officer is neither the subject nor the requester nor the helpdesk agent
 * who attested the evidence, holds a role the policy allows, and has not voted on this recovery before.
 */
function assertEligibleOfficer(state: ActiveRecovery, officerId: string, roles: readonly string[], rules: RecoveryRules): void {
  requireText(officerId, 'officer id');
  if (officerId === state.userId) throw new DomainError('approver_is_subject', 'The subject of a recovery cannot vote on it', 'forbidden');
  if (officerId === state.requestedBy.id) throw new DomainError('approver_is_requester', 'The requester of a recovery cannot vote on it', 'forbidden');
  if ('evidence' in state && state.evidence.verifier.kind === 'helpdesk-attestation' && state.evidence.verifier.attestedBy === officerId) {
    throw new DomainError('approver_is_attester', 'Whoever attested the evidence cannot also vote on it', 'forbidden');
  }
  if (!roles.some((role) => rules.approverRoles.includes(role))) {
    throw new DomainError('approver_role_not_allowed', `Voting needs one of the roles: ${rules.approverRoles.join(', ')}`, 'forbidden');
  }
  if ('approvals' in state && state.approvals.some((vote) => vote.approverId === officerId)) {
    throw new DomainError('duplicate_vote', 'Each officer votes once on a recovery');
  }
}

function approve(command: ApproveRecovery, state: ActiveRecovery, rules: RecoveryRules, now: Date): RecoveryEvent[] {
  if (state.status === 'awaiting-evidence') throw new DomainError('evidence_required', 'Approvals open once identity evidence has passed');
  if (state.status !== 'awaiting-approval') throw new DomainError('quorum_already_reached', 'The recovery already has its approvals');
  if (!isBefore(now, state.approvalDueBy)) throw new DomainError('deadline_passed', 'The time for approvals has run out');
  const { approverId, approverRoles, reason } = command.data;
  assertEligibleOfficer(state, approverId, approverRoles, rules);
  requireText(reason, 'reason', 'reason_required');

  const approvalsSoFar = state.approvals.length + 1;
  const quorumReached = approvalsSoFar >= state.requiredApprovals;
  const events: RecoveryEvent[] = [
    {
      type: 'RecoveryApproved',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        approverId,
        reason: reason.trim(),
        approvedAt: iso(now),
        approvalsSoFar,
        requiredApprovals: state.requiredApprovals,
        quorumReached,
        policyVersion: state.policyVersion,
      },
    },
  ];
  if (quorumReached) {
    // The cooling-off starts the moment quorum is reached and is fixed then: signals that arrive later
    // cannot shorten it, and nothing can skip it (DESIGN.md "Consistency rules").
    const plan = coolingOffFor(rules, state.riskSignals);
    const endsAtMs = now.getTime() + plan.durationMs;
    events.push({
      type: 'RecoveryCoolingOffStarted',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        startedAt: iso(now),
        endsAt: new Date(endsAtMs).toISOString(),
        durationMs: plan.durationMs,
        extensionsApplied: [...plan.extensionsApplied],
        capped: plan.capped,
        notifyAt: plan.durationMs > rules.notifyBeforeCompletionMs ? new Date(endsAtMs - rules.notifyBeforeCompletionMs).toISOString() : null,
        policyVersion: state.policyVersion,
      },
    });
  }
  return events;
}

function reject(command: RejectRecovery, state: ActiveRecovery, rules: RecoveryRules, now: Date): RecoveryEvent[] {
  if (state.status !== 'awaiting-evidence' && state.status !== 'awaiting-approval' && state.status !== 'cooling-off') {
    // Once a pass exists the response to doubt is an incident: freezing cancels the recovery and revokes the pass.
    throw new DomainError('too_late_to_reject', 'The pass is already issued; freeze the account through an incident instead');
  }
  const { officerId, officerRoles, reason } = command.data;
  assertEligibleOfficer(state, officerId, officerRoles, rules);
  requireText(reason, 'reason', 'reason_required');
  return [
    {
      type: 'RecoveryRejected',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        cause: 'officer-decision',
        rejectedBy: officerId,
        reason: reason.trim(),
        rejectedAt: iso(now),
        policyVersion: state.policyVersion,
      },
    },
  ];
}

function recordOnCallPage(command: RecordOnCallPage, state: ActiveRecovery, now: Date): RecoveryEvent[] {
  if (!state.onCallPageRequired) throw new DomainError('on_call_page_not_required', 'Only break-glass recoveries page on-call', 'invalid');
  requireText(command.data.pageReference, 'pageReference');
  // A retried paging activity must not record a second page.
  if (state.onCallPagedAt !== null) return [];
  return [{ type: 'RecoveryOnCallPaged', data: { recoveryId: state.recoveryId, userId: state.userId, pageReference: command.data.pageReference, pagedAt: iso(now) } }];
}

/**
 * A cancel that arrives before completion always wins (S25), whatever stage the recovery is in; what
 * the recovery handed out (the pass, factors enrolled with it) is listed for the workflow to take back.
 */
function cancel(command: CancelRecovery, state: ActiveRecovery, rules: RecoveryRules, now: Date): RecoveryCancelled[] {
  const proof = command.data;
  let cancelledBy: string | null;
  let incidentSuspected = false;
  let incidentId: string | null = null;
  switch (proof.via) {
    case 'step-up': {
      const { stepUp } = proof;
      if (stepUp.userId !== state.userId) throw new DomainError('step_up_not_subject', 'Only the subject can cancel with a step-up', 'forbidden');
      const ageMs = now.getTime() - stepUp.verifiedAt.getTime();
      if (ageMs < 0 || ageMs > rules.cancelStepUpMaxAgeMs) throw new DomainError('step_up_stale', 'Cancelling needs a recent step-up', 'forbidden');
      // SMS is a restricted authenticator (NIST SP 800-63B-4 §3.1.3.3, the PSTN) and email is weaker still;
      // the policy decides whether either may cancel.
      if ((stepUp.method === 'sms' || stepUp.method === 'email') && !rules.cancelAllowsSmsOrEmail) {
        throw new DomainError('restricted_channel_not_allowed', 'This policy does not accept SMS or email for cancelling', 'forbidden');
      }
      cancelledBy = state.userId;
      break;
    }
    case 'wasnt-me-link': {
      const { link } = proof;
      if (link.recoveryId !== state.recoveryId || link.userId !== state.userId) {
        throw new DomainError('cancel_link_mismatch', 'This link belongs to another recovery', 'forbidden');
      }
      if (now.getTime() >= link.expiresAt.getTime()) throw new DomainError('cancel_link_expired', 'This link has expired', 'forbidden');
      // Someone other than the subject asked for this recovery: the orchestrator opens an incident.
      cancelledBy = state.userId;
      incidentSuspected = true;
      break;
    }
    case 'account-frozen':
      requireText(proof.incidentId, 'incidentId');
      cancelledBy = null;
      incidentId = proof.incidentId;
      break;
    default:
      return assertNever(proof);
  }
  return [
    {
      type: 'RecoveryCancelled',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        via: proof.via,
        cancelledBy,
        cancelledAt: iso(now),
        stageAtCancel: state.status,
        incidentSuspected,
        incidentId,
        toRevoke: { passId: 'pass' in state ? state.pass.passId : null, factorIds: 'enrolledFactorIds' in state ? [...state.enrolledFactorIds] : [] },
        policyVersion: state.policyVersion,
      },
    },
  ];
}

function issuePass(command: IssueTemporaryAccessPass, state: ActiveRecovery, rules: RecoveryRules, now: Date): RecoveryEvent[] {
  assertStage(state, 'cooling-off', now, 'pass_already_issued');
  // Belt and braces: the cooling-off state implies quorum, but this rule must hold whatever happened.
  if (state.approvals.length < state.requiredApprovals) throw new DomainError('quorum_not_reached', 'The recovery lacks its approvals');
  if (now.getTime() < Date.parse(state.coolingOff.endsAt)) {
    throw new DomainError('cooling_off_not_elapsed', `The cooling-off ends at ${state.coolingOff.endsAt}`);
  }
  if (state.onCallPageRequired && state.onCallPagedAt === null) throw new DomainError('on_call_not_paged', 'A break-glass pass needs on-call paged first');
  const { passId } = command.data;
  if (!temporaryAccessPassIssuedDataSchema.shape.passId.safeParse(passId).success) {
    // Only an id fits here; a pass secret would not be a UUID.
    throw new DomainError('invalid_pass_id', 'A pass id is a UUID', 'invalid');
  }
  return [
    {
      type: 'TemporaryAccessPassIssued',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        passId,
        issuedAt: iso(now),
        expiresAt: plus(now, rules.passLifetimeMs),
        singleUse: true,
        usableFor: 'factor-enrolment',
        enrolmentDueBy: plus(now, rules.enrolmentTimeoutMs),
        policyVersion: state.policyVersion,
      },
    },
  ];
}

/** S21: a factor is bound during recovery only through this recovery's redeemed pass, before the deadline. */
function recordEnrolment(command: RecordEnrolment, state: ActiveRecovery, now: Date): RecoveryEvent[] {
  if (state.status === 'restricted') throw new DomainError('enrolment_closed', 'Enrolment through this recovery is over');
  if (state.status !== 'pass-issued' && state.status !== 'enrolled') throw new DomainError('pass_not_issued', 'No pass has been issued for this recovery', 'forbidden');
  const { passId, factorId, factorKind } = command.data;
  if (passId !== state.pass.passId) throw new DomainError('pass_unknown', 'This pass does not belong to this recovery', 'forbidden');
  if (state.pass.redeemedAt === null) throw new DomainError('pass_not_redeemed', 'Enrolment needs the pass redeemed first', 'forbidden');
  if (!isBefore(now, state.enrolmentDueBy)) throw new DomainError('deadline_passed', 'The time for enrolment has run out');
  if (!(RECOVERY_ENROLMENT_FACTOR_KINDS as readonly string[]).includes(factorKind)) {
    throw new DomainError('factor_kind_not_allowed', `A recovery pass cannot enrol a factor of kind "${String(factorKind)}"`, 'invalid');
  }
  requireText(factorId, 'factorId');
  // A retried enrolment activity records the factor once.
  if (state.status === 'enrolled' && state.enrolledFactorIds.includes(factorId)) return [];
  return [{ type: 'RecoveryFactorEnrolled', data: { recoveryId: state.recoveryId, userId: state.userId, factorId, factorKind, passId, enrolledAt: iso(now) } }];
}

function revokeOldFactors(command: RevokeOldFactors, state: ActiveRecovery, rules: RecoveryRules, now: Date): RecoveryEvent[] {
  assertStage(state, 'enrolled', now, 'old_factors_already_revoked');
  return [
    {
      type: 'RecoveryOldFactorsRevoked',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        scope: rules.revokeOldFactors,
        revokedFactorIds: [...factorsToRevoke(state, rules, command.data.currentFactorIds)],
        revokedAt: iso(now),
        restrictedUntil: plus(now, rules.restrictedPeriodMs),
        policyVersion: state.policyVersion,
      },
    },
  ];
}

function complete(_command: CompleteRecovery, state: ActiveRecovery, now: Date): RecoveryEvent[] {
  assertStage(state, 'restricted', now, 'recovery_terminal');
  if (now.getTime() < Date.parse(state.restrictedUntil)) throw new DomainError('restricted_period_not_elapsed', `The restricted period ends at ${state.restrictedUntil}`);
  if (state.approvals.length < state.requiredApprovals) throw new DomainError('quorum_not_reached', 'The recovery lacks its approvals');
  if (Date.parse(state.coolingOff.endsAt) > now.getTime()) throw new DomainError('cooling_off_not_elapsed', `The cooling-off ends at ${state.coolingOff.endsAt}`);
  return [
    {
      type: 'RecoveryCompleted',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        kind: state.kind,
        approverIds: state.approvals.map((vote) => vote.approverId),
        enrolledFactorIds: [...state.enrolledFactorIds],
        completedAt: iso(now),
        policyVersion: state.policyVersion,
      },
    },
  ];
}

/** Only a wait that people or the subject must end can time out, and only once its deadline has passed. */
function expire(_command: ExpireRecovery, state: ActiveRecovery, now: Date): RecoveryEvent[] {
  let stage: 'evidence' | 'approval' | 'enrolment';
  let deadline: string;
  let passExpiredUnused = false;
  switch (state.status) {
    case 'awaiting-evidence':
      stage = 'evidence';
      deadline = state.evidenceDueBy;
      break;
    case 'awaiting-approval':
      stage = 'approval';
      deadline = state.approvalDueBy;
      break;
    case 'pass-issued': {
      stage = 'enrolment';
      const unused = state.pass.redeemedAt === null;
      deadline = unused && Date.parse(state.pass.expiresAt) < Date.parse(state.enrolmentDueBy) ? state.pass.expiresAt : state.enrolmentDueBy;
      passExpiredUnused = unused && now.getTime() >= Date.parse(state.pass.expiresAt);
      break;
    }
    case 'cooling-off':
    case 'enrolled':
    case 'restricted':
      throw new DomainError('nothing_to_expire', `A recovery that is ${state.status} is not waiting on anyone`);
    default:
      return assertNever(state);
  }
  if (isBefore(now, deadline)) throw new DomainError('deadline_not_reached', `The ${stage} deadline is ${deadline}`);
  return [
    {
      type: 'RecoveryExpired',
      data: {
        recoveryId: state.recoveryId,
        userId: state.userId,
        stage,
        deadline,
        expiredAt: iso(now),
        passExpiredUnused,
        passId: 'pass' in state ? state.pass.passId : null,
        policyVersion: state.policyVersion,
      },
    },
  ];
}

/** A break-glass review stays open until a security officer outside the recovery closes it. */
function closePostIncidentReview(command: ClosePostIncidentReview, state: ActiveRecovery | EndedRecovery): RecoveryEvent[] {
  if (state.review !== 'open') throw new DomainError('review_not_open', 'This recovery has no open post-incident review');
  if (!isTerminal(state)) throw new DomainError('recovery_still_active', 'The review closes after the recovery has ended');
  const rules = rulesOf(command.metadata.policy, state);
  const { reviewerId, reviewerRoles, findingsReference } = command.data;
  requireText(reviewerId, 'reviewerId');
  if (reviewerId === state.userId) throw new DomainError('reviewer_is_subject', 'The subject cannot review their own recovery', 'forbidden');
  if (reviewerId === state.requestedBy.id) throw new DomainError('reviewer_is_requester', 'The requester cannot review this recovery', 'forbidden');
  if (!reviewerRoles.some((role) => rules.approverRoles.includes(role))) {
    throw new DomainError('reviewer_role_not_allowed', `Reviewing needs one of the roles: ${rules.approverRoles.join(', ')}`, 'forbidden');
  }
  requireText(findingsReference, 'findingsReference');
  return [
    {
      type: 'PostIncidentReviewClosed',
      data: { recoveryId: state.recoveryId, userId: state.userId, reviewerId, findingsReference, closedAt: iso(command.metadata.now) },
    },
  ];
}

type StageName = ActiveRecovery['status'];

/**
 * Refuses a step that does not belong to the recovery's stage: too early, with the code of what it is
 * still waiting for; too late, with `alreadyCode`.
 */
function assertStage<S extends StageName>(state: ActiveRecovery, stage: S, now: Date, alreadyCode: string): asserts state is Extract<ActiveRecovery, { status: S }> {
  const at = RECOVERY_ACTIVE_STAGES.indexOf(state.status);
  const wanted = RECOVERY_ACTIVE_STAGES.indexOf(stage);
  if (at > wanted) throw new DomainError(alreadyCode, `Not possible once the recovery is ${state.status}`);
  if (at < wanted) {
    const [code, message] = waitingOn(state, now);
    throw new DomainError(code, message);
  }
}

function waitingOn(state: ActiveRecovery, now: Date): [string, string] {
  switch (state.status) {
    case 'awaiting-evidence':
      return ['evidence_required', 'The recovery is waiting for identity evidence'];
    case 'awaiting-approval':
      return ['quorum_not_reached', `The recovery has ${state.approvals.length} of ${state.requiredApprovals} approvals`];
    case 'cooling-off':
      return now.getTime() < Date.parse(state.coolingOff.endsAt)
        ? ['cooling_off_not_elapsed', `The cooling-off ends at ${state.coolingOff.endsAt}`]
        : ['pass_not_issued', 'No pass has been issued yet'];
    case 'pass-issued':
      return ['enrolment_required', 'No factor has been enrolled with the pass yet'];
    case 'enrolled':
      return ['old_factors_not_revoked', 'The old factors have not been revoked yet'];
    case 'restricted':
      return ['restricted_period_not_elapsed', `The restricted period ends at ${state.restrictedUntil}`];
    default:
      return assertNever(state);
  }
}

function requireText(value: string, field: string, code = 'invalid_command'): void {
  if (typeof value !== 'string' || value.trim().length === 0) throw new DomainError(code, `${field} is required`, 'invalid');
}

const iso = (date: Date): string => date.toISOString();
const plus = (date: Date, ms: number): string => new Date(date.getTime() + ms).toISOString();
const isBefore = (now: Date, instant: string): boolean => now.getTime() < Date.parse(instant);
