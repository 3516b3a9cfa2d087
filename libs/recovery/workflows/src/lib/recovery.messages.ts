import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { NextDeadline } from '@tessera/recovery-domain';

/**
 * What the recovery workflows and their callers exchange, defined once beside the workflows and
 * imported by clients (STYLE.md, Temporal samples). Nothing here ever carries a secret: no pass, no
 * code, no link token (SECURITY.md S32). Instants travel as ISO strings.
 */

/** On-call finds a user's recovery in the Temporal UI by these (registered on the server as Keyword). */
export const SEARCH_ATTRIBUTES = {
  userId: defineSearchAttributeKey('TesseraUserId', 'KEYWORD'),
  state: defineSearchAttributeKey('TesseraRecoveryState', 'KEYWORD'),
  kind: defineSearchAttributeKey('TesseraRecoveryKind', 'KEYWORD'),
} as const;

/** One active recovery per user: the workflow id is the user's, and starting refuses a running one. */
export const recoveryWorkflowId = (userId: string): string => `recovery-${userId}`;
/** One open incident per user. */
export const incidentWorkflowId = (userId: string): string => `incident-${userId}`;
export const drillWorkflowId = (drillId: string): string => `drill-${drillId}`;

export type RecoveryKindName = 'assisted' | 'break-glass';

/** A recovery as the workflow sees it after each decision: the decider's state, reduced to what it waits on. */
export interface RecoveryView {
  readonly recoveryId: string;
  readonly userId: string;
  readonly kind: RecoveryKindName;
  /** not-requested | awaiting-evidence | awaiting-approval | cooling-off | pass-issued | enrolled | restricted | completed | cancelled | rejected | expired */
  readonly status: string;
  readonly policyVersion: string;
  readonly next: NextDeadline;
  readonly approvals: number;
  readonly requiredApprovals: number;
  readonly passId: string | null;
  readonly passRedeemed: boolean;
  /** How long a pass lives once issued (the policy's TAP lifetime). */
  readonly passLifetimeMs: number;
  readonly coolingOffEndsAt: string | null;
  readonly review: 'not-required' | 'open' | 'closed';
  /** How often an open post-incident review is brought up again. */
  readonly reviewReminderIntervalMs: number;
  readonly drillId: string | null;
  readonly cancellation: { readonly via: string; readonly incidentSuspected: boolean } | null;
  /** What an ended recovery handed out and must be taken back (a pass not yet spent, factors it enrolled). */
  readonly toRevoke: { readonly passId: string | null; readonly factorIds: readonly string[] };
  /** Factors the recovery revoked when it entered its restricted period. */
  readonly revokedFactorIds: readonly string[];
}

export const TERMINAL_RECOVERY_STATUSES: readonly string[] = ['completed', 'cancelled', 'rejected', 'expired'];

/**
 * A step the workflow asks the recovery decider to take. It is the domain command without its
 * metadata: the activity adds the time (the workflow's), and the policy the recovery started under.
 */
export type RecoveryStep =
  | {
      readonly type: 'RecordEvidence';
      readonly verifier: { readonly kind: 'idv-webhook'; readonly reference: string } | { readonly kind: 'helpdesk-attestation'; readonly reference: string; readonly attestedBy: string };
      readonly outcome: 'passed' | 'failed';
    }
  | { readonly type: 'ApproveRecovery'; readonly approverId: string; readonly approverRoles: readonly string[]; readonly reason: string }
  | { readonly type: 'RejectRecovery'; readonly officerId: string; readonly officerRoles: readonly string[]; readonly reason: string }
  | { readonly type: 'RecordOnCallPage'; readonly pageReference: string }
  | { readonly type: 'CancelRecovery'; readonly proof: CancelProof }
  | { readonly type: 'IssueTemporaryAccessPass'; readonly passId: string }
  | { readonly type: 'RedeemTemporaryAccessPass'; readonly passId: string }
  | { readonly type: 'RecordEnrolment'; readonly passId: string; readonly factorId: string; readonly factorKind: 'totp' | 'webauthn' }
  | { readonly type: 'RevokeOldFactors'; readonly currentFactorIds: readonly string[] }
  | { readonly type: 'CompleteRecovery' }
  | { readonly type: 'ExpireRecovery' }
  | { readonly type: 'ClosePostIncidentReview'; readonly reviewerId: string; readonly reviewerRoles: readonly string[]; readonly findingsReference: string };

/** The verified claims of a cancellation; the step-up proof and the link token stay with the adapter that checked them. */
export type CancelProof =
  | {
      readonly via: 'step-up';
      readonly stepUp: { readonly userId: string; readonly factorId: string; readonly method: 'totp' | 'webauthn' | 'backup-code' | 'sms' | 'email'; readonly verifiedAt: string };
    }
  | { readonly via: 'wasnt-me-link'; readonly link: { readonly recoveryId: string; readonly userId: string; readonly expiresAt: string } }
  | { readonly via: 'account-frozen'; readonly incidentId: string };

/** Who asked for a step (the envelope's actor of the events it produces). */
export interface StepActor {
  readonly kind: 'user' | 'service' | 'system' | 'helpdesk' | 'security-officer' | 'admin';
  readonly id: string;
}

export interface RecoveryWorkflowInput {
  readonly recoveryId: string;
  readonly userId: string;
  readonly kind: RecoveryKindName;
  readonly policyVersion: string;
  readonly drillId: string | null;
  /** Notices already sent, carried over a continue-as-new so none is sent twice. */
  readonly sent?: readonly string[];
}

export type RecoveryOutcome = { readonly recoveryId: string; readonly status: string };

/** A human step: who, and with what; the update answers with the recovery after the step, or fails with the decider's code. */
export interface HumanStep {
  readonly actor: StepActor;
  readonly correlationId: string;
  readonly step: RecoveryStep;
}

/**
 * Identity evidence. `idv-webhook` asks the identity-verification provider through the verifier
 * activity for the outcome of its check `reference`; `helpdesk-attestation` is the attesting agent's word.
 */
export interface EvidenceInput {
  readonly actor: StepActor;
  readonly correlationId: string;
  readonly verifier: { readonly kind: 'idv-webhook'; readonly reference: string } | { readonly kind: 'helpdesk-attestation'; readonly reference: string; readonly attestedBy: string; readonly outcome: 'passed' | 'failed' };
}

export const recordEvidenceUpdate = defineUpdate<RecoveryView, [EvidenceInput]>('recordEvidence');
/** Approve, reject, cancel, redeem the pass, record enrolment, close the review: one update, the decider tells them apart. */
export const recoveryStepUpdate = defineUpdate<RecoveryView, [HumanStep]>('recoveryStep');
/** An incident froze the account: the recovery under way is cancelled (DESIGN.md "Incident response"). */
export const accountFrozenSignal = defineSignal<[{ readonly incidentId: string }]>('accountFrozen');
export const recoveryStateQuery = defineQuery<RecoveryView | null>('recoveryState');
/** A drill's recovery tells its drill that the pass is out, so the drill's synthetic user can use it at once. */
export const drillPassIssuedSignal = defineSignal<[{ readonly recoveryId: string; readonly passId: string }]>('drillPassIssued');

/** The user-facing notices of a recovery (S22): a template name each, rendered by the notifier. */
export type RecoveryNotice =
  | 'recovery-requested'
  | 'recovery-cooling-off-started'
  | 'recovery-completes-soon'
  | 'recovery-pass-issued'
  | 'recovery-factors-revoked'
  | 'recovery-completed'
  | 'recovery-cancelled'
  | 'recovery-rejected'
  | 'recovery-expired'
  | 'account-frozen'
  | 'account-unfrozen';

/** Staff-facing reminders (approvers, reviewers), sent through the on-call webhook. */
export type StaffNotice = 'approval-pending' | 'post-incident-review-open';

// ---- incidents ----

export interface IncidentWorkflowInput {
  readonly incidentId: string;
  readonly userId: string;
  readonly source: 'wasnt-me-link' | 'user-report' | 'security-team' | 'anomaly-detection';
  readonly reportedBy: { readonly kind: 'user' | 'helpdesk' | 'security-officer' | 'system'; readonly id: string };
  readonly recoveryId: string | null;
  readonly deviceIds: readonly string[];
  readonly correlationId: string;
  /** The report was stored by the caller in the transaction that started this workflow (the freeze is immediate). */
  readonly reported?: boolean;
}

export interface IncidentView {
  readonly incidentId: string;
  readonly userId: string;
  /** none | opened | frozen | recovery-forced | unfrozen */
  readonly status: string;
  readonly forcedRecoveryId: string | null;
  readonly revokedDeviceIds: readonly string[];
  readonly onCallPaged: boolean;
}

export interface IncidentDecision {
  readonly actor: StepActor;
  readonly actorRoles: readonly string[];
  readonly correlationId: string;
  readonly decision: 'unfreeze' | 'force-recovery';
  readonly reason: string;
  /** For `force-recovery`: the id of the one recovery the freeze lets through, and what it starts with. */
  readonly recovery?: { readonly recoveryId: string; readonly ticketReference: string; readonly lostFactorIds: readonly string[]; readonly subjectGroups: readonly string[] };
}

export const decideIncidentUpdate = defineUpdate<IncidentView, [IncidentDecision]>('decideIncident');
export const revokeIncidentDevicesUpdate = defineUpdate<IncidentView, [{ readonly actor: StepActor; readonly correlationId: string; readonly deviceIds: readonly string[] }]>(
  'revokeIncidentDevices',
);
export const incidentStateQuery = defineQuery<IncidentView | null>('incidentState');

// ---- drills ----

export interface DrillWorkflowInput {
  /** Set when started by hand; a scheduled run takes its id from the workflow id. */
  readonly drillId?: string;
}

export interface DrillOutcome {
  readonly drillId: string;
  readonly recoveryId: string | null;
  readonly outcome: 'succeeded' | 'failed';
  readonly reason: string | null;
}
