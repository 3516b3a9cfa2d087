/**
 * What the audit log knows about each event type: its category, its outcome, how its reason reads,
 * and whether and how the user sees it in their security history.
 *
 * Type and field names are those of the `data` schemas in `@tessera/contracts` (auth, devices,
 * recovery topics); a unit test fails when a contract gains an event type this table does not
 * describe. Until then such a type is still recorded (an audit log that skips what it does not
 * understand is not an audit log), as category `other`, outcome `info`, with no data fields at
 * all: new data reaches the log only when someone decides here which of its fields an auditor needs.
 */

export const AUDIT_CATEGORIES = ['factor-change', 'recovery', 'admin', 'verification', 'incident', 'other'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied', 'pending', 'cancelled', 'info'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * The `data` fields an audit record may keep, per category (data minimisation, GDPR Art. 5(1)(c)).
 * `details` are copied in clear: identifiers of things (credentials, devices, recoveries,
 * incidents), kinds, counts, deadlines, policy versions and staff ids, none of which identify the
 * user without another service's database. `personal` are copied only into the sealed block,
 * encrypted under the data subject's key (ERASURE.md): names people give their devices and keys,
 * masked destinations, client addresses and user agents. `data.reason` is handled apart (see
 * `reasonKind`). A dotted name (`verifier.kind`) reaches into a nested object and keeps one scalar.
 * Everything else in `data` is dropped: notably `cancelledBy`, `requestedBy.id` and
 * `reportedBy.id`, which may be the user's own id, and every TOTP or counter value.
 * A unit test keeps secret-looking names out of both lists (S29).
 */
export interface DataAllowList {
  readonly details: readonly string[];
  readonly personal: readonly string[];
}

const PERSONAL_BASE = ['clientAddress', 'userAgent'] as const;

export const DATA_ALLOW_LIST: Readonly<Record<AuditCategory, DataAllowList>> = {
  'factor-change': {
    details: [
      'credentialId',
      'kind',
      'factor',
      'factorId',
      'factorKind',
      'algorithm',
      'digits',
      'period',
      'source',
      'aaguid',
      'deviceBound',
      'count',
      'replacedCredentialId',
      'remaining',
      'threshold',
      'deviceId',
      'credentialIds',
      'referenceId',
      'backupId',
      'formatVersion',
      'sizeBytes',
      'replacesBackupId',
      'recoveryId',
      'passId',
      // auth-service's bindings made with a recovery's pass (S21) name the recovery and the pass id.
      'recovery.recoveryId',
      'recovery.passId',
      'scope',
      'revokedFactorIds',
      'restrictedUntil',
      'policyVersion',
      'previousLevel',
      'level',
      'score',
      'findings',
    ],
    personal: ['name', 'previousName', 'destinationHint', ...PERSONAL_BASE],
  },
  verification: {
    details: ['credentialId', 'kind', 'aal', 'amr', 'stage', 'consecutiveFailures', 'retryAt', 'remaining', 'threshold', 'referenceId', 'deviceId', 'whileReportedLost'],
    personal: [...PERSONAL_BASE],
  },
  recovery: {
    details: [
      'recoveryId',
      'kind',
      'riskSignals',
      'privileged',
      'policyVersion',
      'requiredApprovals',
      'evidenceDueBy',
      'lostFactorIds',
      'onCallPageRequired',
      'postIncidentReviewRequired',
      'forcedByIncidentId',
      'drillId',
      'verifier.kind',
      'verifier.reference',
      'verifier.attestedBy',
      'outcome',
      'approvalDueBy',
      'approverId',
      'approvalsSoFar',
      'quorumReached',
      'cause',
      'rejectedBy',
      'startedAt',
      'endsAt',
      'durationMs',
      'extensionsApplied',
      'capped',
      'pageReference',
      'via',
      'stageAtCancel',
      'incidentSuspected',
      'incidentId',
      'toRevoke.passId',
      'toRevoke.factorIds',
      'passId',
      'expiresAt',
      'usableFor',
      'enrolmentDueBy',
      'approverIds',
      'enrolledFactorIds',
      'stage',
      'deadline',
      'passExpiredUnused',
    ],
    personal: [...PERSONAL_BASE],
  },
  admin: {
    details: [
      'drillId',
      'recoveryId',
      'policyVersion',
      'timerFactor',
      'startedAt',
      'finishedAt',
      'durationMs',
      'stageReached',
      // The audit service's own administrative events (AUDIT_SERVICE_EVENTS): pseudonyms, positions and settings only.
      'erasedSubjectRef',
      'retentionDays',
      'previousRetentionDays',
      'deleteThroughPosition',
      'anchorPosition',
      'exportKind',
      'subjectRef',
    ],
    personal: [...PERSONAL_BASE],
  },
  incident: {
    details: [
      'incidentId',
      'source',
      'reportedBy.kind',
      'recoveryId',
      'deviceIds',
      'pageReference',
      'decidedBy',
      'reviewerId',
      'findingsReference',
      'credentialId',
      'storedSignCount',
      'presentedSignCount',
    ],
    personal: [...PERSONAL_BASE],
  },
  other: { details: [], personal: [] },
};

/** Who did something, as the user is told it: never a staff member's id or name. */
export type HistoryActor = 'you' | 'helpdesk' | 'security-team' | 'administrator' | 'tessera' | 'another-user';

export interface HistoryTitleContext {
  readonly by: HistoryActor;
  /** The record's clear detail fields. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly reasonCode: string | null;
}

export interface AuditEventDescriptor {
  readonly category: AuditCategory;
  /** Fixed, or read from `data` (e.g. evidence that failed). */
  readonly outcome: AuditOutcome | ((data: Readonly<Record<string, unknown>>) => AuditOutcome);
  /**
   * `text`: `data.reason` is free text someone wrote, sealed as personal data (the default).
   * `code`: `data.reason` is a machine-readable enum (`lost`, `admin_unlock`), kept in clear.
   */
  readonly reasonKind?: 'text' | 'code';
  /** Where a ticket reference sits in `data`, when not at `ticket` or `ticketReference`. */
  readonly ticketPath?: string;
  /** Present when the subject may see this event; returning `null` hides one occurrence. */
  readonly historyTitle?: (context: HistoryTitleContext) => string | null;
}

export type AuditCatalogue = Readonly<Record<string, AuditEventDescriptor>>;

export const UNKNOWN_EVENT: AuditEventDescriptor = { category: 'other', outcome: 'info' };

const BY_TEXT: Readonly<Partial<Record<HistoryActor, string>>> = {
  helpdesk: 'helpdesk',
  'security-team': 'the security team',
  administrator: 'an administrator',
  'another-user': 'another user',
};

/** " by helpdesk"; nothing when the user or Tessera itself did it, where "by …" reads oddly. */
function by(context: HistoryTitleContext): string {
  const text = BY_TEXT[context.by];
  return text === undefined ? '' : ` by ${text}`;
}

const FACTOR_NOUN: Readonly<Record<string, string>> = {
  totp: 'authenticator app',
  webauthn: 'security key or passkey',
  backup_codes: 'set of backup codes',
  email_otp: 'email address for sign-in codes',
  sms_otp: 'phone number for sign-in codes',
};

function factorNoun(context: HistoryTitleContext, field = 'kind'): string {
  const kind = context.details[field];
  return (typeof kind === 'string' && FACTOR_NOUN[kind]) || 'sign-in method';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const always =
  (title: string) =>
  (): string =>
    title;
const withBy =
  (title: string) =>
  (context: HistoryTitleContext): string =>
    `${title}${by(context)}`;

export const AUDIT_CATALOGUE: AuditCatalogue = {
  // tessera.auth.v1
  TotpEnrolled: { category: 'factor-change', outcome: 'pending' },
  TotpConfirmed: { category: 'factor-change', outcome: 'success', historyTitle: withBy('New authenticator app added') },
  WebAuthnCredentialRegistered: {
    category: 'factor-change',
    outcome: 'success',
    historyTitle: (c) => `${c.details['deviceBound'] === false ? 'New passkey added' : 'New security key added'}${by(c)}`,
  },
  BackupCodesGenerated: { category: 'factor-change', outcome: 'success', historyTitle: withBy('New backup codes created') },
  BackupCodeUsed: { category: 'verification', outcome: 'success', historyTitle: always('Backup code used to sign in') },
  BackupCodesLow: { category: 'factor-change', outcome: 'info', historyTitle: always('Only a few backup codes left') },
  EmailOtpChannelAdded: { category: 'factor-change', outcome: 'success', historyTitle: withBy('Email address added for sign-in codes') },
  SmsOtpChannelAdded: { category: 'factor-change', outcome: 'success', historyTitle: withBy('Phone number added for sign-in codes') },
  CredentialRevoked: { category: 'factor-change', outcome: 'success', reasonKind: 'code', historyTitle: (c) => `${capitalise(factorNoun(c))} removed${by(c)}` },
  VerificationSucceeded: { category: 'verification', outcome: 'success' },
  VerificationFailed: { category: 'verification', outcome: 'failure', reasonKind: 'code', historyTitle: always('Failed sign-in attempt') },
  ThrottleEngaged: {
    category: 'verification',
    outcome: 'denied',
    historyTitle: (c) => (c.details['stage'] === 'locked' ? 'Sign-in locked after too many failed attempts' : 'Sign-in slowed down after failed attempts'),
  },
  ThrottleReset: { category: 'verification', outcome: 'success', reasonKind: 'code', historyTitle: withBy('Failed-attempt limit reset') },
  PossibleClonedAuthenticatorDetected: { category: 'incident', outcome: 'failure', historyTitle: always('Possible copy of your security key detected') },
  // auth-service's side of a redeemed pass. Not in the user's history: the recovery's own
  // TemporaryAccessPassRedeemed below tells them, and one use should read as one line.
  TemporaryAccessPassConsumed: { category: 'recovery', outcome: 'success' },
  // auth-service enforcing a freeze the recovery-orchestrator decided (AccountFrozen below).
  CredentialsFrozen: { category: 'incident', outcome: 'success', historyTitle: withBy('Factor changes locked during an incident') },
  CredentialsUnfrozen: { category: 'incident', outcome: 'success', historyTitle: withBy('Factor changes unlocked') },

  // tessera.recovery.v1 incident decisions.
  AccountFrozen: { category: 'incident', outcome: 'success', historyTitle: withBy('Account frozen') },
  AccountUnfrozen: { category: 'incident', outcome: 'success', historyTitle: withBy('Account unfrozen') },

  // tessera.devices.v1
  DeviceRegistered: { category: 'factor-change', outcome: 'success', historyTitle: withBy('New device added') },
  DeviceRenamed: { category: 'factor-change', outcome: 'success', historyTitle: withBy('Device renamed') },
  DeviceReportedLost: {
    category: 'factor-change',
    outcome: 'success',
    reasonKind: 'code',
    historyTitle: (c) => `${c.reasonCode === 'stolen' ? 'Device reported stolen' : 'Device reported lost'}${by(c)}`,
  },
  DeviceRevoked: { category: 'factor-change', outcome: 'success', reasonKind: 'code', historyTitle: withBy('Device removed') },
  DeviceUsed: { category: 'verification', outcome: 'success', historyTitle: (c) => (c.details['whileReportedLost'] === true ? 'A device you reported lost was used' : null) },
  CredentialBoundToDevice: { category: 'factor-change', outcome: 'success' },
  CredentialUnboundFromDevice: { category: 'factor-change', outcome: 'success', reasonKind: 'code' },
  VaultBackupStored: { category: 'factor-change', outcome: 'success', historyTitle: always('Authenticator backup saved') },
  VaultBackupRestored: { category: 'factor-change', outcome: 'success', historyTitle: always('Authenticator restored from backup') },
  RecoveryReadinessDropped: { category: 'factor-change', outcome: 'info', historyTitle: always('Your account recovery options got weaker') },

  // tessera.recovery.v1
  RecoveryRequested: { category: 'recovery', outcome: 'pending', ticketPath: 'requestedBy.ticketReference', historyTitle: withBy('Recovery requested') },
  RecoveryEvidenceRecorded: { category: 'recovery', outcome: (data) => (data['outcome'] === 'passed' ? 'success' : 'failure') },
  RecoveryApproved: { category: 'recovery', outcome: 'success', historyTitle: withBy('Recovery approved') },
  RecoveryRejected: { category: 'recovery', outcome: 'denied', historyTitle: withBy('Recovery rejected') },
  RecoveryCoolingOffStarted: { category: 'recovery', outcome: 'pending', historyTitle: always('Recovery waiting period started: you can still cancel it') },
  RecoveryOnCallPaged: { category: 'recovery', outcome: 'info' },
  RecoveryCancelled: { category: 'recovery', outcome: 'cancelled', historyTitle: withBy('Recovery cancelled') },
  TemporaryAccessPassIssued: { category: 'recovery', outcome: 'success', historyTitle: always('Temporary access pass issued') },
  TemporaryAccessPassRedeemed: { category: 'recovery', outcome: 'success', historyTitle: always('Temporary access pass used') },
  RecoveryFactorEnrolled: { category: 'factor-change', outcome: 'success', historyTitle: (c) => `New ${factorNoun(c, 'factorKind')} added during recovery` },
  RecoveryOldFactorsRevoked: { category: 'factor-change', outcome: 'success', historyTitle: always('Old sign-in methods revoked after recovery') },
  RecoveryCompleted: { category: 'recovery', outcome: 'success', historyTitle: always('Account recovery completed') },
  RecoveryExpired: { category: 'recovery', outcome: 'cancelled', historyTitle: always('Recovery expired') },
  PostIncidentReviewClosed: { category: 'incident', outcome: 'success' },
  IncidentOpened: { category: 'incident', outcome: 'pending' },
  IncidentDevicesRevoked: { category: 'incident', outcome: 'success', historyTitle: withBy('Devices revoked') },
  IncidentOnCallPaged: { category: 'incident', outcome: 'info' },
  AssistedRecoveryForced: { category: 'incident', outcome: 'success' },
  RecoveryDrillSucceeded: { category: 'admin', outcome: 'success' },
  RecoveryDrillFailed: { category: 'admin', outcome: 'failure', reasonKind: 'code' },

  // tessera.audit.v1: what the audit service records about its own log (AUDIT_SERVICE_EVENTS).
  AuditSubjectErased: { category: 'admin', outcome: 'success' },
  AuditRetentionPolicyChanged: { category: 'admin', outcome: 'success' },
  AuditRetentionApplied: { category: 'admin', outcome: 'success' },
  AuditDataSubjectExported: { category: 'admin', outcome: 'success' },
};

/**
 * Events the audit service appends to its own log, so that changes to the log are themselves on
 * the record: an erasure (by the pseudonym whose key was destroyed, never the user id), a change of
 * retention, a retention cut, and a data-subject export (who pulled whose records). They are
 * written straight into the chain under `AUDIT_SERVICE_SOURCE`, never published to Kafka.
 */
export const AUDIT_SERVICE_SOURCE = 'tessera.audit.v1';
export const AUDIT_SERVICE_EVENTS = ['AuditSubjectErased', 'AuditRetentionPolicyChanged', 'AuditRetentionApplied', 'AuditDataSubjectExported'] as const;
export type AuditServiceEventType = (typeof AUDIT_SERVICE_EVENTS)[number];

export function describeEvent(type: string, catalogue: AuditCatalogue = AUDIT_CATALOGUE): AuditEventDescriptor {
  return Object.hasOwn(catalogue, type) ? catalogue[type] : UNKNOWN_EVENT;
}

export function outcomeOf(descriptor: AuditEventDescriptor, data: Readonly<Record<string, unknown>>): AuditOutcome {
  return typeof descriptor.outcome === 'function' ? descriptor.outcome(data) : descriptor.outcome;
}
