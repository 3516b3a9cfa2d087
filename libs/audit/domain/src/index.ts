export { AuditError, type AuditErrorCode } from './lib/audit-error';
export { canonicalJson, canonicalJsonBytes, CanonicalJsonError, type JsonValue } from './lib/canonical-json';
export {
  AUDIT_CATALOGUE,
  AUDIT_CATEGORIES,
  AUDIT_OUTCOMES,
  AUDIT_SERVICE_EVENTS,
  AUDIT_SERVICE_SOURCE,
  type AuditCatalogue,
  type AuditServiceEventType,
  type AuditCategory,
  type AuditEventDescriptor,
  type AuditOutcome,
  DATA_ALLOW_LIST,
  type DataAllowList,
  describeEvent,
  type HistoryActor,
  type HistoryTitleContext,
  UNKNOWN_EVENT,
} from './lib/catalogue';
export { type AuditDetails, type AuditDetailValue, type AuditEntry, type AuditEntryContext, toAuditEntry } from './lib/audit-entry';
export {
  ACTOR_ID_FIELD,
  type AuditActor,
  type AuditRecord,
  auditRecordSchema,
  parseAuditRecord,
  REASON_FIELD,
  type SealedAuditEntry,
  sealAuditEntry,
  sealedPersonalSchema,
  SUBJECT_USER_ID_FIELD,
} from './lib/audit-record';
export {
  assertDataKeyId,
  createDataKey,
  DATA_KEY_BYTES,
  type DataKey,
  DataKeyError,
  type DataKeyLookup,
  type DataKeyState,
  dataKeyFromBytes,
  ERASED,
  type Erased,
  isErased,
  openPersonal,
  type PersonalFields,
  type PersonalView,
  personalValue,
  type RandomBytes,
  type SealedPersonal,
  sealPersonal,
} from './lib/personal-data';
export { appendToChain, canonicalRecordBody, type ChainHead, computeRecordHash, GENESIS_HASH, GENESIS_HEAD, headOf } from './lib/hash-chain';
export {
  type CheckpointSigner,
  parseCheckpointSigner,
  parseEd25519PrivateKey,
  parseEd25519PublicKey,
  parsePublicKeyRing,
  type PublicKeyRing,
  rawPublicKey,
  SigningKeyError,
  type SigningKeyErrorCode,
} from './lib/signing-keys';
export {
  type CheckpointBody,
  type CheckpointInput,
  checkpointMessage,
  type CheckpointPolicy,
  checkpointPolicySchema,
  type CheckpointSignatureCheck,
  createCheckpoint,
  isCheckpointDue,
  parseCheckpointPolicy,
  type SignedCheckpoint,
  signedCheckpointSchema,
  verifyCheckpointSignature,
} from './lib/checkpoint';
export { planRetentionCut, type RetentionCut, type RetentionInput } from './lib/retention';
export {
  type ChainFailure,
  type ChainFailureReason,
  type ChainVerification,
  ChainVerifier,
  type ChainVerifierOptions,
  type VerifierStatus,
  verifyChain,
  verifyChainBatches,
  type VerifyChainOptions,
} from './lib/chain-verifier';
export { actorOf, reasonOf, type RevealedActor, type RevealedAuditRecord, revealRecord, subjectUserIdOf } from './lib/reveal';
export { SECURITY_HISTORY_FIELDS, securityHistory, type SecurityHistoryItem, toSecurityHistoryItem } from './lib/security-history';
export {
  type AdminActionRow,
  adminActionsReport,
  type FactorChangeRow,
  factorChangesReport,
  type FailedVerificationSpike,
  failedVerificationSpikes,
  type RecoveryApproval,
  type RecoveryDurations,
  type RecoveryEvidence,
  recoveryReport,
  type RecoveryReportRow,
  type RecoveryStatus,
  type SpikeKey,
  type SpikeOptions,
} from './lib/reports';
