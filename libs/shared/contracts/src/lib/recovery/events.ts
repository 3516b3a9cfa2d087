import { z } from 'zod';

/**
 * Integration events published on `tessera.recovery.v1`: one zod schema per event type for the
 * envelope's `data` (version 1 of each). The recovery-orchestrator's deciders produce exactly these
 * shapes, so what is stored, what is published and what consumers parse cannot drift apart.
 *
 * Every schema is strict: an unknown key is refused rather than carried along. That is what keeps a
 * secret that slipped into a command (a Temporary Access Pass, a cancel-link token) from riding an
 * event onto Kafka and into every consumer's database (DESIGN.md "Events"; SECURITY.md S29, S32).
 * Every event names its subject (`userId`, also the Kafka key) and its recovery or incident.
 */
export const RECOVERY_EVENTS_VERSION = 1;

const id = z.string().min(1).max(200);
const instant = z.iso.datetime({ offset: false });
const text = z.string().trim().min(1).max(2000);
const reference = z.string().trim().min(1).max(200);
const durationMs = z.number().int().min(0);
/**
 * A pass id is a UUID so that nothing resembling a pass secret fits in the field by mistake. The pattern
 * is spelled out here rather than imported from @tessera/util, whose index also loads node:crypto: these
 * schemas must stay loadable inside Temporal's deterministic workflow sandbox.
 */
const passId = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'must be a lowercase UUID');

export const policyVersionSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_", "+" or "-"');

export const RECOVERY_KINDS = ['assisted', 'break-glass'] as const;
export const recoveryKindSchema = z.enum(RECOVERY_KINDS);
export type RecoveryKind = z.infer<typeof recoveryKindSchema>;

/**
 * How identity was re-verified before approvals (NIST SP 800-63B-4 §4.2: recovery rests on identity
 * proofing or an equivalent, never on knowledge). There is deliberately no "security question" kind:
 * knowledge-based verifiers are banned (63B-4 §3.1.1.2; ASVS 6.4.2; SECURITY.md S26).
 */
export const EVIDENCE_VERIFIER_KINDS = ['idv-webhook', 'helpdesk-attestation'] as const;
export const evidenceVerifierKindSchema = z.enum(EVIDENCE_VERIFIER_KINDS);
export type EvidenceVerifierKind = z.infer<typeof evidenceVerifierKindSchema>;

/** Risk signals seen at request time; each one lengthens the cooling-off by a policy-set amount. */
export const RISK_SIGNALS = ['new-network', 'new-device', 'recent-factor-change'] as const;
export const riskSignalSchema = z.enum(RISK_SIGNALS);
export type RiskSignal = z.infer<typeof riskSignalSchema>;

/** The stages a recovery passes through before it ends; `stageAtCancel` names one of them. */
export const RECOVERY_ACTIVE_STAGES = ['awaiting-evidence', 'awaiting-approval', 'cooling-off', 'pass-issued', 'enrolled', 'restricted'] as const;
export const recoveryActiveStageSchema = z.enum(RECOVERY_ACTIVE_STAGES);
export type RecoveryActiveStage = z.infer<typeof recoveryActiveStageSchema>;

/** Factor kinds a Temporary Access Pass may enrol. Restricted channels (SMS, email) are not among them. */
export const RECOVERY_ENROLMENT_FACTOR_KINDS = ['totp', 'webauthn'] as const;

const uniqueStrings = (item: z.ZodString) => z.array(item).max(100).refine((values) => new Set(values).size === values.length, 'must not repeat');

const requesterSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), id, ticketReference: z.null() }),
  z.strictObject({ kind: z.literal('helpdesk'), id, ticketReference: reference }),
]);

export const recoveryRequestedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  kind: recoveryKindSchema,
  requestedBy: requesterSchema,
  requestedAt: instant,
  riskSignals: z.array(riskSignalSchema).max(RISK_SIGNALS.length),
  privileged: z.boolean(),
  policyVersion: policyVersionSchema,
  requiredApprovals: z.number().int().min(1).max(10),
  evidenceDueBy: instant,
  lostFactorIds: uniqueStrings(id),
  onCallPageRequired: z.boolean(),
  postIncidentReviewRequired: z.boolean(),
  forcedByIncidentId: id.nullable(),
  drillId: id.nullable(),
});

export const recoveryEvidenceRecordedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  verifier: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('idv-webhook'), reference }),
    z.strictObject({ kind: z.literal('helpdesk-attestation'), reference, attestedBy: id }),
  ]),
  outcome: z.enum(['passed', 'failed']),
  recordedAt: instant,
  /** When the approvals must be in by; null when the evidence failed and the recovery ends. */
  approvalDueBy: instant.nullable(),
  policyVersion: policyVersionSchema,
});

/** One approver's vote; the one that reaches quorum is followed by RecoveryCoolingOffStarted. */
export const recoveryApprovedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  approverId: id,
  reason: text,
  approvedAt: instant,
  approvalsSoFar: z.number().int().min(1),
  requiredApprovals: z.number().int().min(1),
  quorumReached: z.boolean(),
  policyVersion: policyVersionSchema,
});

export const recoveryRejectedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  cause: z.enum(['officer-decision', 'evidence-failed']),
  /** The security officer who said no; null when failed evidence ended the recovery. */
  rejectedBy: id.nullable(),
  reason: text,
  rejectedAt: instant,
  policyVersion: policyVersionSchema,
});

export const recoveryCoolingOffStartedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  startedAt: instant,
  endsAt: instant,
  durationMs,
  extensionsApplied: z.array(riskSignalSchema).max(RISK_SIGNALS.length),
  /** True when base plus extensions exceeded the policy maximum and the maximum applied. */
  capped: z.boolean(),
  /** When the user gets the "this recovery completes soon unless you cancel" notice. */
  notifyAt: instant.nullable(),
  policyVersion: policyVersionSchema,
});

export const recoveryOnCallPagedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  pageReference: reference,
  pagedAt: instant,
});

export const recoveryCancelledDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  via: z.enum(['step-up', 'wasnt-me-link', 'account-frozen']),
  /** The subject for a step-up or link cancel; null when an incident's freeze cancelled it. */
  cancelledBy: id.nullable(),
  cancelledAt: instant,
  stageAtCancel: recoveryActiveStageSchema,
  /** A "this wasn't me" cancel means someone else asked: the orchestrator opens an incident. */
  incidentSuspected: z.boolean(),
  incidentId: id.nullable(),
  /** What the recovery handed out and must now be taken back. */
  toRevoke: z.strictObject({ passId: passId.nullable(), factorIds: uniqueStrings(id) }),
  policyVersion: policyVersionSchema,
});

/** The pass id and its lifetime only. The pass secret never leaves auth-service (S29, S32). */
export const temporaryAccessPassIssuedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  passId,
  issuedAt: instant,
  expiresAt: instant,
  singleUse: z.literal(true),
  usableFor: z.literal('factor-enrolment'),
  enrolmentDueBy: instant,
  policyVersion: policyVersionSchema,
});

export const temporaryAccessPassRedeemedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  passId,
  redeemedAt: instant,
});

export const recoveryFactorEnrolledDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  factorId: id,
  factorKind: z.enum(RECOVERY_ENROLMENT_FACTOR_KINDS),
  passId,
  enrolledAt: instant,
});

export const recoveryOldFactorsRevokedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  scope: z.enum(['all', 'lost-only']),
  revokedFactorIds: uniqueStrings(id),
  revokedAt: instant,
  /** Until then no factor may be removed and no recovery setting changed. */
  restrictedUntil: instant,
  policyVersion: policyVersionSchema,
});

export const recoveryCompletedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  kind: recoveryKindSchema,
  approverIds: uniqueStrings(id),
  enrolledFactorIds: uniqueStrings(id),
  completedAt: instant,
  policyVersion: policyVersionSchema,
});

export const recoveryExpiredDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  stage: z.enum(['evidence', 'approval', 'enrolment']),
  deadline: instant,
  expiredAt: instant,
  /** True when the pass lapsed before anyone redeemed it. */
  passExpiredUnused: z.boolean(),
  /** A pass still to be withdrawn, if one was issued. */
  passId: passId.nullable(),
  policyVersion: policyVersionSchema,
});

export const postIncidentReviewClosedDataSchema = z.strictObject({
  recoveryId: id,
  userId: id,
  reviewerId: id,
  findingsReference: reference,
  closedAt: instant,
});

const incidentReporterSchema = z.strictObject({
  kind: z.enum(['user', 'helpdesk', 'security-officer', 'system']),
  id,
});

export const incidentOpenedDataSchema = z.strictObject({
  incidentId: id,
  userId: id,
  source: z.enum(['wasnt-me-link', 'user-report', 'security-team', 'anomaly-detection']),
  reportedBy: incidentReporterSchema,
  /** The recovery whose "this wasn't me" link raised the alarm, if any. */
  recoveryId: id.nullable(),
  openedAt: instant,
});

export const accountFrozenDataSchema = z.strictObject({
  incidentId: id,
  userId: id,
  frozenAt: instant,
});

export const incidentDevicesRevokedDataSchema = z.strictObject({
  incidentId: id,
  userId: id,
  deviceIds: uniqueStrings(id).refine((ids) => ids.length > 0, 'must name at least one device'),
  revokedAt: instant,
});

export const incidentOnCallPagedDataSchema = z.strictObject({
  incidentId: id,
  userId: id,
  pageReference: reference,
  pagedAt: instant,
});

export const accountUnfrozenDataSchema = z.strictObject({
  incidentId: id,
  userId: id,
  decidedBy: id,
  reason: text,
  unfrozenAt: instant,
});

export const assistedRecoveryForcedDataSchema = z.strictObject({
  incidentId: id,
  userId: id,
  /** The one recovery the freeze lets through. */
  recoveryId: id,
  decidedBy: id,
  reason: text,
  decidedAt: instant,
});

const drillBase = {
  drillId: id,
  recoveryId: id,
  /** The synthetic test account the drill recovered. */
  userId: id,
  policyVersion: policyVersionSchema,
  timerFactor: z.number().int().min(1),
  startedAt: instant,
  finishedAt: instant,
  durationMs,
};

export const recoveryDrillSucceededDataSchema = z.strictObject(drillBase);

export const recoveryDrillFailedDataSchema = z.strictObject({
  ...drillBase,
  reason: z.enum(['recovery-cancelled', 'recovery-rejected', 'recovery-expired', 'deadline-passed']),
  /** How far the drill's recovery got: `not-requested` if it never started. */
  stageReached: z.enum(['not-requested', ...RECOVERY_ACTIVE_STAGES, 'cancelled', 'rejected', 'expired']),
});

/** Every event on the recovery topic, by type. A consumer parses `data` with the schema for `type`. */
export const RECOVERY_EVENT_SCHEMAS = {
  RecoveryRequested: recoveryRequestedDataSchema,
  RecoveryEvidenceRecorded: recoveryEvidenceRecordedDataSchema,
  RecoveryApproved: recoveryApprovedDataSchema,
  RecoveryRejected: recoveryRejectedDataSchema,
  RecoveryCoolingOffStarted: recoveryCoolingOffStartedDataSchema,
  RecoveryOnCallPaged: recoveryOnCallPagedDataSchema,
  RecoveryCancelled: recoveryCancelledDataSchema,
  TemporaryAccessPassIssued: temporaryAccessPassIssuedDataSchema,
  TemporaryAccessPassRedeemed: temporaryAccessPassRedeemedDataSchema,
  RecoveryFactorEnrolled: recoveryFactorEnrolledDataSchema,
  RecoveryOldFactorsRevoked: recoveryOldFactorsRevokedDataSchema,
  RecoveryCompleted: recoveryCompletedDataSchema,
  RecoveryExpired: recoveryExpiredDataSchema,
  PostIncidentReviewClosed: postIncidentReviewClosedDataSchema,
  IncidentOpened: incidentOpenedDataSchema,
  AccountFrozen: accountFrozenDataSchema,
  IncidentDevicesRevoked: incidentDevicesRevokedDataSchema,
  IncidentOnCallPaged: incidentOnCallPagedDataSchema,
  AccountUnfrozen: accountUnfrozenDataSchema,
  AssistedRecoveryForced: assistedRecoveryForcedDataSchema,
  RecoveryDrillSucceeded: recoveryDrillSucceededDataSchema,
  RecoveryDrillFailed: recoveryDrillFailedDataSchema,
} as const;

export type RecoveryEventType = keyof typeof RECOVERY_EVENT_SCHEMAS;
export type RecoveryEventData<T extends RecoveryEventType> = z.infer<(typeof RECOVERY_EVENT_SCHEMAS)[T]>;

/** One recovery-topic event as the deciders produce it: the type and its `data`. */
export type RecoveryEventOf<T extends RecoveryEventType> = { readonly type: T; readonly data: RecoveryEventData<T> };

/** The union of every recovery-topic event. */
export type RecoveryTopicEvent = { [T in RecoveryEventType]: RecoveryEventOf<T> }[RecoveryEventType];

export const RECOVERY_EVENT_TYPES = Object.keys(RECOVERY_EVENT_SCHEMAS) as readonly RecoveryEventType[];

export function isRecoveryEventType(type: string): type is RecoveryEventType {
  return Object.hasOwn(RECOVERY_EVENT_SCHEMAS, type);
}

/** Validates `data` against the schema registered for `type`; throws a ZodError listing every problem. */
export function parseRecoveryEventData<T extends RecoveryEventType>(type: T, data: unknown): RecoveryEventData<T> {
  return RECOVERY_EVENT_SCHEMAS[type].parse(data) as RecoveryEventData<T>;
}
