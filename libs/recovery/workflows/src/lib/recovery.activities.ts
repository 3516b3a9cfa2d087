import type {
  DrillOutcome,
  IncidentView,
  RecoveryNotice,
  RecoveryStep,
  RecoveryView,
  StaffNotice,
  StepActor,
} from './recovery.messages';

/**
 * The activities the recovery workflows call: every piece of I/O (the event store, auth-service,
 * notifications, the pager, the identity-verification provider). Workflows import this as a type
 * only; the worker builds the implementation with its dependencies (apps/recovery-orchestrator).
 *
 * Errors: a rule the decider refuses arrives as a non-retryable ApplicationFailure whose `type` is
 * `DomainError` and whose details are `[code, kind, message]`; anything else is retried.
 */
export interface RecoveryActivities {
  /** The recovery's state now, as a view (no change). `mustExist`: fail (retryably) while the recovery is not stored yet. */
  loadRecovery(input: { readonly recoveryId: string; readonly policyVersion: string; readonly now: string; readonly mustExist?: boolean }): Promise<RecoveryView>;
  /** Runs one step through the recovery decider and the event store (one transaction); answers the new view. */
  applyRecoveryStep(input: {
    readonly recoveryId: string;
    readonly policyVersion: string;
    readonly now: string;
    readonly actor: StepActor;
    readonly correlationId: string;
    readonly step: RecoveryStep;
  }): Promise<RecoveryView>;

  /** Asks the identity-verification provider (signed webhook) for the outcome of check `reference`. */
  verifyIdentity(input: { readonly recoveryId: string; readonly userId: string; readonly reference: string }): Promise<{ readonly outcome: 'passed' | 'failed' }>;

  /** auth-service: issues the pass, delivered straight to the user; only its id comes back (S32). */
  issueTemporaryAccessPass(input: { readonly recoveryId: string; readonly userId: string; readonly lifetimeSeconds: number }): Promise<{ readonly passId: string }>;
  revokeTemporaryAccessPass(input: { readonly recoveryId: string; readonly userId: string; readonly passId: string }): Promise<void>;
  /** auth-service: the ids of the user's factors that are not revoked. */
  listFactorIds(input: { readonly userId: string }): Promise<readonly string[]>;
  /** auth-service: revokes each factor (takes effect before it returns, S23), inside the recovery or incident. */
  revokeFactors(input: { readonly userId: string; readonly referenceId: string; readonly factorIds: readonly string[]; readonly reason: 'recovery' | 'incident' }): Promise<void>;
  freezeAccount(input: { readonly userId: string; readonly incidentId: string; readonly reason: string }): Promise<void>;
  unfreezeAccount(input: { readonly userId: string; readonly incidentId: string }): Promise<void>;
  /** device-registry: revokes the chosen devices (and with them their sessions). */
  revokeDevices(input: { readonly userId: string; readonly incidentId: string; readonly deviceIds: readonly string[] }): Promise<void>;

  /** Pages on-call through the signed webhook; answers the pager's reference. */
  pageOnCall(input: { readonly subject: 'recovery' | 'incident'; readonly id: string; readonly userId: string; readonly summary: string }): Promise<{ readonly pageReference: string }>;
  /**
   * Tells the user on every channel they have (S22); a cancel link is minted inside the activity, never
   * returned. `recoveryId` is the recovery or incident the notice is about.
   */
  notifyUser(input: { readonly userId: string; readonly recoveryId: string; readonly notice: RecoveryNotice; readonly noticeKey: string; readonly at: string | null }): Promise<void>;
  notifyStaff(input: { readonly notice: StaffNotice; readonly recoveryId: string; readonly userId: string; readonly noticeKey: string }): Promise<void>;

  /** Incidents: the incident as stored now. */
  loadIncident(input: { readonly incidentId: string }): Promise<IncidentView>;
  /** Incidents: one step through the incident decider. */
  applyIncidentStep(input: {
    readonly incidentId: string;
    readonly now: string;
    readonly actor: StepActor;
    readonly correlationId: string;
    readonly step: IncidentStep;
  }): Promise<IncidentView>;
  /** Starts the one assisted recovery an incident decision forced (its own workflow). */
  startForcedRecovery(input: {
    readonly incidentId: string;
    readonly userId: string;
    readonly recoveryId: string;
    readonly requestedBy: string;
    readonly ticketReference: string;
    readonly lostFactorIds: readonly string[];
    readonly subjectGroups: readonly string[];
    readonly correlationId: string;
  }): Promise<void>;

  /** Drills: request the synthetic recovery; answers its id and the policy version it runs under. */
  startDrillRecovery(input: { readonly drillId: string; readonly now: string }): Promise<{ readonly recoveryId: string; readonly userId: string; readonly policyVersion: string; readonly deadline: string }>;
  /** Drills: play the people of an assisted recovery (evidence, approvals, pass use, enrolment) on the drill's recovery. */
  driveDrillRecovery(input: {
    readonly drillId: string;
    readonly recoveryId: string;
    readonly userId: string;
    readonly stage: 'evidence-and-approvals' | 'enrolment';
    /** For `enrolment`: the pass the recovery issued. */
    readonly passId?: string;
  }): Promise<void>;
  /** Drills: records the outcome as an event and a metric. */
  recordDrillOutcome(input: { readonly drillId: string; readonly recoveryId: string; readonly now: string }): Promise<DrillOutcome>;
}

export type IncidentStep =
  | {
      readonly type: 'ReportSuspectedCompromise';
      readonly userId: string;
      readonly source: 'wasnt-me-link' | 'user-report' | 'security-team' | 'anomaly-detection';
      readonly reportedBy: { readonly kind: 'user' | 'helpdesk' | 'security-officer' | 'system'; readonly id: string };
      readonly recoveryId: string | null;
    }
  | { readonly type: 'RevokeDevices'; readonly deviceIds: readonly string[] }
  | { readonly type: 'RecordIncidentPage'; readonly pageReference: string }
  | { readonly type: 'UnfreezeAccount'; readonly decidedBy: string; readonly deciderRoles: readonly string[]; readonly reason: string }
  | { readonly type: 'ForceAssistedRecovery'; readonly decidedBy: string; readonly deciderRoles: readonly string[]; readonly reason: string; readonly recoveryId: string };

/** The failure type an activity gives a DomainError, so the workflow can tell "the rules said no" from an outage. */
export const DOMAIN_ERROR_TYPE = 'DomainError';
