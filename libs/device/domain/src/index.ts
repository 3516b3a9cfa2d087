export {
  activeDevices,
  deviceHoldingCredential,
  evolve,
  initialState,
  type ActiveDevice,
  type Device,
  type DeviceCredential,
  type LostDevice,
  type RevokedDevice,
  type UserDevices,
  type VaultBackupInfo,
} from './lib/devices/devices.state';
export {
  MAX_DEVICES_PER_USER,
  decide,
  devicesDecider,
  type CommandMetadata,
  type DeviceCommand,
  type RevocationContext,
} from './lib/devices/devices.decider';
export {
  AUTHENTICATOR_CATEGORIES,
  KNOWN_AAGUIDS,
  createAaguidCatalog,
  defaultAaguidCatalog,
  type AaguidCatalog,
  type AuthenticatorCategory,
  type AuthenticatorModel,
} from './lib/aaguid/aaguid-catalog';
export {
  DEFAULT_READINESS_POLICY,
  READINESS_BANDS,
  READINESS_WEIGHTS,
  assessReadiness,
  levelFor,
  readinessDrop,
  readinessInputFromDevices,
  type ReadinessAssessment,
  type ReadinessFactor,
  type ReadinessInput,
  type ReadinessPolicy,
} from './lib/readiness/readiness';
export {
  backupCodesRemaining,
  deviceForCredential,
  isUsableFact,
  readinessFactorsOutsideDevices,
  usableFactorsOutsideDevices,
  type CredentialFact,
  type DeviceForCredential,
} from './lib/factors/credential-facts';
export {
  BACKUP_METHODS,
  backupMethods,
  type BackupMethod,
  type BackupMethodReport,
  type BackupMethodStatus,
  type BackupMethods,
} from './lib/readiness/backup-methods';
