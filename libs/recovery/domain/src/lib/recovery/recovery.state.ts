import { type RecoveryActiveStage, type RecoveryEventOf, type RecoveryKind, type RiskSignal } from '@tessera/contracts';
import { assertNever } from '@tessera/event-sourcing';

/**
 * A recovery's events, state and `evolve` (DESIGN.md, recovery ladder rungs 4 and 5). The event
 * shapes are the integration contracts in @tessera/contracts: what the decider emits is what is
 * stored, published and audited.
 */
export type RecoveryRequested = RecoveryEventOf<'RecoveryRequested'>;
export type RecoveryEvidenceRecorded = RecoveryEventOf<'RecoveryEvidenceRecorded'>;
export type RecoveryApproved = RecoveryEventOf<'RecoveryApproved'>;
export type RecoveryRejected = RecoveryEventOf<'RecoveryRejected'>;
export type RecoveryCoolingOffStarted = RecoveryEventOf<'RecoveryCoolingOffStarted'>;
export type RecoveryOnCallPaged = RecoveryEventOf<'RecoveryOnCallPaged'>;
export type RecoveryCancelled = RecoveryEventOf<'RecoveryCancelled'>;
export type TemporaryAccessPassIssued = RecoveryEventOf<'TemporaryAccessPassIssued'>;
export type TemporaryAccessPassRedeemed = RecoveryEventOf<'TemporaryAccessPassRedeemed'>;
export type RecoveryFactorEnrolled = RecoveryEventOf<'RecoveryFactorEnrolled'>;
export type RecoveryOldFactorsRevoked = RecoveryEventOf<'RecoveryOldFactorsRevoked'>;
export type RecoveryCompleted = RecoveryEventOf<'RecoveryCompleted'>;
export type RecoveryExpired = RecoveryEventOf<'RecoveryExpired'>;
export type PostIncidentReviewClosed = RecoveryEventOf<'PostIncidentReviewClosed'>;

export type RecoveryEvent =
  | RecoveryRequested
  | RecoveryEvidenceRecorded
  | RecoveryApproved
  | RecoveryRejected
  | RecoveryCoolingOffStarted
  | RecoveryOnCallPaged
  | RecoveryCancelled
  | TemporaryAccessPassIssued
  | TemporaryAccessPassRedeemed
  | RecoveryFactorEnrolled
  | RecoveryOldFactorsRevoked
  | RecoveryCompleted
  | RecoveryExpired
  | PostIncidentReviewClosed;

export type Requester = RecoveryRequested['data']['requestedBy'];
export type EvidenceVerifier = RecoveryEvidenceRecorded['data']['verifier'];

export interface ApprovalVote {
  readonly approverId: string;
  readonly reason: string;
  readonly approvedAt: string;
}

export interface TemporaryAccessPassRecord {
  readonly passId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  /** Set on first use; a pass with a redemption is spent (S25). */
  readonly redeemedAt: string | null;
}

/** `open` from the request of a break-glass recovery until a reviewer closes it, whatever the outcome. */
export type PostIncidentReviewStatus = 'not-required' | 'open' | 'closed';

/** What every recovery knows from its request on. */
export interface RequestFacts {
  readonly recoveryId: string;
  readonly userId: string;
  readonly kind: RecoveryKind;
  readonly requestedBy: Requester;
  readonly requestedAt: string;
  readonly riskSignals: readonly RiskSignal[];
  readonly privileged: boolean;
  readonly policyVersion: string;
  readonly requiredApprovals: number;
  readonly evidenceDueBy: string;
  readonly lostFactorIds: readonly string[];
  readonly forcedByIncidentId: string | null;
  readonly drillId: string | null;
  readonly onCallPageRequired: boolean;
  readonly onCallPagedAt: string | null;
  readonly review: PostIncidentReviewStatus;
}

export interface EvidenceFacts {
  readonly evidence: { readonly verifier: EvidenceVerifier; readonly recordedAt: string };
  readonly approvalDueBy: string;
  readonly approvals: readonly ApprovalVote[];
}

export interface CoolingOffFacts {
  readonly coolingOff: { readonly startedAt: string; readonly endsAt: string; readonly notifyAt: string | null };
}

export interface PassFacts {
  readonly pass: TemporaryAccessPassRecord;
  readonly enrolmentDueBy: string;
}

export interface EnrolmentFacts {
  readonly enrolledFactorIds: readonly string[];
}

export interface RestrictionFacts {
  readonly revokedFactorIds: readonly string[];
  readonly restrictedUntil: string;
}

/** Whatever a recovery had reached when it ended early. */
type ReachedFacts = RequestFacts & Partial<EvidenceFacts & CoolingOffFacts & PassFacts & EnrolmentFacts & RestrictionFacts>;

export interface NotRequested {
  readonly status: 'not-requested';
}
export type AwaitingEvidence = RequestFacts & { readonly status: 'awaiting-evidence' };
export type AwaitingApproval = RequestFacts & EvidenceFacts & { readonly status: 'awaiting-approval' };
export type CoolingOff = RequestFacts & EvidenceFacts & CoolingOffFacts & { readonly status: 'cooling-off' };
export type PassIssued = RequestFacts & EvidenceFacts & CoolingOffFacts & PassFacts & { readonly status: 'pass-issued' };
export type Enrolled = RequestFacts & EvidenceFacts & CoolingOffFacts & PassFacts & EnrolmentFacts & { readonly status: 'enrolled' };
export type Restricted = RequestFacts & EvidenceFacts & CoolingOffFacts & PassFacts & EnrolmentFacts & RestrictionFacts & { readonly status: 'restricted' };
export type Completed = RequestFacts &
  EvidenceFacts &
  CoolingOffFacts &
  PassFacts &
  EnrolmentFacts &
  RestrictionFacts & { readonly status: 'completed'; readonly completedAt: string };
export type Cancelled = ReachedFacts & {
  readonly status: 'cancelled';
  readonly cancelledAt: string;
  readonly cancelledVia: RecoveryCancelled['data']['via'];
  readonly incidentSuspected: boolean;
  readonly stageAtCancel: RecoveryActiveStage;
};
export type Rejected = ReachedFacts & {
  readonly status: 'rejected';
  readonly rejectedAt: string;
  readonly rejectionCause: RecoveryRejected['data']['cause'];
  readonly rejectedBy: string | null;
};
export type Expired = ReachedFacts & {
  readonly status: 'expired';
  readonly expiredAt: string;
  readonly expiredStage: RecoveryExpired['data']['stage'];
};

export type ActiveRecovery = AwaitingEvidence | AwaitingApproval | CoolingOff | PassIssued | Enrolled | Restricted;
export type EndedRecovery = Completed | Cancelled | Rejected | Expired;
export type RecoveryState = NotRequested | ActiveRecovery | EndedRecovery;
export type RecoveryStatus = RecoveryState['status'];

export const TERMINAL_STATUSES = ['completed', 'cancelled', 'rejected', 'expired'] as const satisfies readonly EndedRecovery['status'][];

export const initialRecoveryState = (): RecoveryState => ({ status: 'not-requested' });

/** Completed, cancelled, rejected or expired: no command but closing a break-glass review is accepted. */
export function isTerminal(state: RecoveryState): state is EndedRecovery {
  return (TERMINAL_STATUSES as readonly string[]).includes(state.status);
}

export function isActive(state: RecoveryState): state is ActiveRecovery {
  return state.status !== 'not-requested' && !isTerminal(state);
}

/**
 * Folds one event into the state. An event that does not fit the state (which `decide` never produces)
 * leaves the state unchanged rather than inventing a transition.
 */
export function evolve(state: RecoveryState, event: RecoveryEvent): RecoveryState {
  switch (event.type) {
    case 'RecoveryRequested': {
      if (state.status !== 'not-requested') return state;
      const d = event.data;
      return {
        status: 'awaiting-evidence',
        recoveryId: d.recoveryId,
        userId: d.userId,
        kind: d.kind,
        requestedBy: d.requestedBy,
        requestedAt: d.requestedAt,
        riskSignals: d.riskSignals,
        privileged: d.privileged,
        policyVersion: d.policyVersion,
        requiredApprovals: d.requiredApprovals,
        evidenceDueBy: d.evidenceDueBy,
        lostFactorIds: d.lostFactorIds,
        forcedByIncidentId: d.forcedByIncidentId,
        drillId: d.drillId,
        onCallPageRequired: d.onCallPageRequired,
        onCallPagedAt: null,
        review: d.postIncidentReviewRequired ? 'open' : 'not-required',
      };
    }
    case 'RecoveryEvidenceRecorded': {
      const d = event.data;
      // Failed evidence is followed by RecoveryRejected, which ends the recovery.
      if (state.status !== 'awaiting-evidence' || d.outcome !== 'passed' || d.approvalDueBy === null) return state;
      return { ...state, status: 'awaiting-approval', evidence: { verifier: d.verifier, recordedAt: d.recordedAt }, approvalDueBy: d.approvalDueBy, approvals: [] };
    }
    case 'RecoveryApproved': {
      if (state.status !== 'awaiting-approval') return state;
      const { approverId, reason, approvedAt } = event.data;
      return { ...state, approvals: [...state.approvals, { approverId, reason, approvedAt }] };
    }
    case 'RecoveryCoolingOffStarted': {
      if (state.status !== 'awaiting-approval') return state;
      const { startedAt, endsAt, notifyAt } = event.data;
      return { ...state, status: 'cooling-off', coolingOff: { startedAt, endsAt, notifyAt } };
    }
    case 'RecoveryOnCallPaged':
      return isActive(state) ? { ...state, onCallPagedAt: event.data.pagedAt } : state;
    case 'TemporaryAccessPassIssued': {
      if (state.status !== 'cooling-off') return state;
      const { passId, issuedAt, expiresAt, enrolmentDueBy } = event.data;
      return { ...state, status: 'pass-issued', pass: { passId, issuedAt, expiresAt, redeemedAt: null }, enrolmentDueBy };
    }
    case 'TemporaryAccessPassRedeemed':
      if (state.status !== 'pass-issued' || state.pass.passId !== event.data.passId) return state;
      return { ...state, pass: { ...state.pass, redeemedAt: event.data.redeemedAt } };
    case 'RecoveryFactorEnrolled':
      if (state.status === 'pass-issued') return { ...state, status: 'enrolled', enrolledFactorIds: [event.data.factorId] };
      if (state.status === 'enrolled') return { ...state, enrolledFactorIds: [...state.enrolledFactorIds, event.data.factorId] };
      return state;
    case 'RecoveryOldFactorsRevoked':
      if (state.status !== 'enrolled') return state;
      return { ...state, status: 'restricted', revokedFactorIds: event.data.revokedFactorIds, restrictedUntil: event.data.restrictedUntil };
    case 'RecoveryCompleted':
      if (state.status !== 'restricted') return state;
      return { ...state, status: 'completed', completedAt: event.data.completedAt };
    case 'RecoveryCancelled': {
      if (!isActive(state)) return state;
      const { cancelledAt, via, incidentSuspected } = event.data;
      return { ...state, status: 'cancelled', cancelledAt, cancelledVia: via, incidentSuspected, stageAtCancel: state.status };
    }
    case 'RecoveryRejected':
      if (!isActive(state)) return state;
      return { ...state, status: 'rejected', rejectedAt: event.data.rejectedAt, rejectionCause: event.data.cause, rejectedBy: event.data.rejectedBy };
    case 'RecoveryExpired':
      if (!isActive(state)) return state;
      return { ...state, status: 'expired', expiredAt: event.data.expiredAt, expiredStage: event.data.stage };
    case 'PostIncidentReviewClosed':
      if (!isTerminal(state) || state.review !== 'open') return state;
      return { ...state, review: 'closed' };
    default:
      return assertNever(event);
  }
}
