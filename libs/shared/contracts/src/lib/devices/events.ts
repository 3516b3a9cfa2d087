import { UUID_PATTERN } from '@tessera/util';
import { z } from 'zod';
import { authFactorKindSchema } from '../auth/events';

/**
 * Integration events of device-registry (topic `tessera.devices.v1`, stream `devices-user-<userId>`):
 * one zod schema per event `data`. Every `data` carries `userId` (the Kafka key, DESIGN.md "Events").
 *
 * No secret ever appears here (SECURITY.md S29): the authenticator-backup vault is described only by
 * its id, size and format version — never its bytes, never anything derived from the passphrase.
 * Schemas are strict, so an unexpected field (the usual way a secret slips into an event) fails
 * validation instead of being published.
 */

export const DEVICE_KINDS = ['phone', 'tablet', 'desktop', 'security-key', 'platform-passkey'] as const;
export const deviceKindSchema = z.enum(DEVICE_KINDS);
export type DeviceKind = z.infer<typeof deviceKindSchema>;

/**
 * Factors a device can hold. Backup codes are a sheet of paper, not a device, so they are never bound
 * to one; the names are auth-service's (`AUTH_FACTOR_KINDS`).
 */
export const deviceFactorKindSchema = authFactorKindSchema.exclude(['backup_codes']);
export type DeviceFactorKind = z.infer<typeof deviceFactorKindSchema>;

export const DEVICE_LOSS_REASONS = ['lost', 'stolen'] as const;
export const deviceLossReasonSchema = z.enum(DEVICE_LOSS_REASONS);
export type DeviceLossReason = z.infer<typeof deviceLossReasonSchema>;

/** The same reasons auth-service gives for revoking a credential (`CREDENTIAL_REVOCATION_REASONS`). */
export const DEVICE_REVOCATION_REASONS = ['user_removed', 'recovery', 'incident'] as const;
export const deviceRevocationReasonSchema = z.enum(DEVICE_REVOCATION_REASONS);
export type DeviceRevocationReason = z.infer<typeof deviceRevocationReasonSchema>;

/** Worst first; the order is the ranking `RecoveryReadinessDropped` compares. */
export const READINESS_LEVELS = ['at_risk', 'poor', 'fair', 'good'] as const;
export const readinessLevelSchema = z.enum(READINESS_LEVELS);
export type ReadinessLevel = z.infer<typeof readinessLevelSchema>;

export const READINESS_FINDINGS = [
  'only_one_factor',
  'only_restricted_factors',
  'no_backup_codes_left',
  'few_backup_codes_left',
  'no_hardware_key',
  'no_vault_backup',
  'vault_backup_stale',
] as const;
export const readinessFindingSchema = z.enum(READINESS_FINDINGS);
export type ReadinessFinding = z.infer<typeof readinessFindingSchema>;

/** Ceiling on a stored vault blob; the vault client refuses anything larger (libs/vault-client FORMAT.md). */
export const MAX_VAULT_BACKUP_BYTES = 8 * 1024 * 1024;
/** A phone holds a TOTP app and a passkey or two; more than this is abuse, and the bound keeps events small. */
export const MAX_CREDENTIALS_PER_DEVICE = 20;

const userId = z.string().min(1).max(200);
const uuid = z.string().regex(UUID_PATTERN, 'must be a lowercase UUID');
const deviceId = uuid;
const credentialId = uuid;
const deviceName = z.string().min(1).max(64);
const instant = z.iso.datetime({ offset: false });
// An AAGUID is 16 authenticator-model bytes in UUID notation, not an RFC 9562 UUID (it may be all zero).
const aaguid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

export const boundCredentialSchema = z.object({ credentialId, factor: deviceFactorKindSchema }).strict();
export type BoundCredential = z.infer<typeof boundCredentialSchema>;

export const deviceRegisteredSchema = z
  .object({
    userId,
    deviceId,
    kind: deviceKindSchema,
    name: deviceName,
    credentials: z.array(boundCredentialSchema).max(MAX_CREDENTIALS_PER_DEVICE),
    /** WebAuthn authenticator model (W3C WebAuthn §6.5.1), kept for display only (S20); null when unknown. */
    aaguid: aaguid.nullable(),
    registeredAt: instant,
  })
  .strict();

export const deviceRenamedSchema = z.object({ userId, deviceId, name: deviceName, previousName: deviceName }).strict();

export const deviceReportedLostSchema = z
  .object({ userId, deviceId, reason: deviceLossReasonSchema, reportedAt: instant })
  .strict();

export const deviceRevokedSchema = z
  .object({
    userId,
    deviceId,
    reason: deviceRevocationReasonSchema,
    /** The recovery or incident the revocation was part of, else null. */
    referenceId: z.string().min(1).max(200).nullable(),
    /** The credentials that stopped working with the device (S23). */
    credentialIds: z.array(credentialId).max(MAX_CREDENTIALS_PER_DEVICE),
    revokedAt: instant,
  })
  .strict();

export const deviceUsedSchema = z
  .object({
    userId,
    deviceId,
    credentialId,
    /** Server time of the verification that used the device (auth-service `VerificationSucceeded`). */
    usedAt: instant,
    /** A device reported lost or stolen was used: worth a notification (it was found, or someone has it). */
    whileReportedLost: z.boolean(),
  })
  .strict();

export const credentialBoundToDeviceSchema = z
  .object({ userId, deviceId, credentialId, factor: deviceFactorKindSchema, boundAt: instant })
  .strict();

export const credentialUnboundFromDeviceSchema = z
  .object({ userId, deviceId, credentialId, reason: z.enum(['credential_revoked']), unboundAt: instant })
  .strict();

export const vaultBackupStoredSchema = z
  .object({
    userId,
    backupId: uuid,
    /** Byte 4 of the blob (libs/vault-client FORMAT.md), read without any secret. */
    formatVersion: z.number().int().min(1).max(255),
    sizeBytes: z.number().int().min(1).max(MAX_VAULT_BACKUP_BYTES),
    /** The device that uploaded it, when known. */
    deviceId: deviceId.nullable(),
    /** The backup this one supersedes; the registry keeps the latest. */
    replacesBackupId: uuid.nullable(),
    storedAt: instant,
  })
  .strict();

/** Restoring counts as a new binding (DESIGN.md ladder rung 3): it notifies like one. */
export const vaultBackupRestoredSchema = z
  .object({ userId, backupId: uuid, deviceId: deviceId.nullable(), restoredAt: instant })
  .strict();

export const recoveryReadinessDroppedSchema = z
  .object({
    userId,
    previousLevel: readinessLevelSchema,
    level: readinessLevelSchema,
    score: z.number().int().min(0).max(100),
    findings: z.array(readinessFindingSchema).max(READINESS_FINDINGS.length),
    assessedAt: instant,
  })
  .strict();

/** Every device event type and the schema of its `data`, keyed by type name (past tense). */
export const DEVICE_EVENT_SCHEMAS = {
  DeviceRegistered: deviceRegisteredSchema,
  DeviceRenamed: deviceRenamedSchema,
  DeviceReportedLost: deviceReportedLostSchema,
  DeviceRevoked: deviceRevokedSchema,
  DeviceUsed: deviceUsedSchema,
  CredentialBoundToDevice: credentialBoundToDeviceSchema,
  CredentialUnboundFromDevice: credentialUnboundFromDeviceSchema,
  VaultBackupStored: vaultBackupStoredSchema,
  VaultBackupRestored: vaultBackupRestoredSchema,
  RecoveryReadinessDropped: recoveryReadinessDroppedSchema,
} as const;

export type DeviceEventType = keyof typeof DEVICE_EVENT_SCHEMAS;
export type DeviceEventData<T extends DeviceEventType> = z.infer<(typeof DEVICE_EVENT_SCHEMAS)[T]>;

/** A device event as deciders produce it: the type and its data (the envelope is added when stored). */
export type DeviceEvent = { [T in DeviceEventType]: { readonly type: T; readonly data: DeviceEventData<T> } }[DeviceEventType];

export const DEVICE_EVENT_TYPES = Object.keys(DEVICE_EVENT_SCHEMAS) as DeviceEventType[];

/** The stream holding one user's devices, readiness and vault metadata. */
export function deviceStreamId(userId: string): string {
  return `devices-user-${userId}`;
}

export function isDeviceEventType(type: string): type is DeviceEventType {
  return Object.hasOwn(DEVICE_EVENT_SCHEMAS, type);
}

/**
 * Validates an event's `data` against the schema of its `type` (at every boundary, DESIGN.md "Events").
 * Throws on an unknown type or invalid data; a consumer sends the message to the dead-letter topic with
 * the error as its reason.
 */
export function parseDeviceEvent(type: string, data: unknown): DeviceEvent {
  if (!isDeviceEventType(type)) throw new Error(`unknown device event type "${type}"`);
  return { type, data: DEVICE_EVENT_SCHEMAS[type].parse(data) } as DeviceEvent;
}
