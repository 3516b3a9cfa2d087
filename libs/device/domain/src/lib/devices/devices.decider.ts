import {
  DEVICE_EVENT_SCHEMAS,
  MAX_CREDENTIALS_PER_DEVICE,
  type BoundCredential,
  type DeviceEvent,
  type DeviceEventData,
  type DeviceEventType,
  type DeviceFactorKind,
  type DeviceKind,
  type DeviceLossReason,
  type DeviceRevocationReason,
} from '@tessera/contracts';
import { DomainError, assertNever, type Decider } from '@tessera/event-sourcing';
import { evolve, initialState, type Device, type UserDevices } from './devices.state';

/** Time arrives with the command (STYLE.md principle 4). */
export interface CommandMetadata {
  readonly now: Date;
}

/**
 * Who is revoking. Only a recovery may take the user's last usable factor (S24): that is the one
 * path where a new factor is being enrolled under a Temporary Access Pass. An incident freezes the
 * account and then runs a recovery; it gets no exemption of its own.
 */
export type RevocationContext =
  | { readonly kind: 'self_service' }
  | { readonly kind: 'recovery'; readonly recoveryId: string }
  | { readonly kind: 'incident'; readonly incidentId: string };

export type DeviceCommand =
  | {
      readonly type: 'RegisterDevice';
      readonly data: {
        readonly userId: string;
        readonly deviceId: string;
        readonly kind: DeviceKind;
        readonly name: string;
        readonly credentials: readonly BoundCredential[];
        readonly aaguid: string | null;
      };
      readonly metadata: CommandMetadata;
    }
  | {
      readonly type: 'RenameDevice';
      readonly data: { readonly userId: string; readonly deviceId: string; readonly name: string };
      readonly metadata: CommandMetadata;
    }
  | {
      readonly type: 'ReportDeviceLost';
      readonly data: { readonly userId: string; readonly deviceId: string; readonly reason: DeviceLossReason };
      readonly metadata: CommandMetadata;
    }
  | {
      readonly type: 'RevokeDevice';
      readonly data: {
        readonly userId: string;
        readonly deviceId: string;
        readonly context: RevocationContext;
        /**
         * Usable factors the user has outside any device, from auth-service's factor read model: 1 when
         * backup codes remain, plus any email/SMS channel not tied to a registered device. S24 counts them.
         */
        readonly usableFactorsOutsideDevices: number;
      };
      readonly metadata: CommandMetadata;
    }
  | {
      readonly type: 'RecordDeviceUse';
      readonly data: { readonly userId: string; readonly deviceId: string; readonly credentialId: string; readonly usedAt: Date };
      readonly metadata: CommandMetadata;
    }
  | {
      readonly type: 'BindCredentialToDevice';
      readonly data: { readonly userId: string; readonly deviceId: string; readonly credentialId: string; readonly factor: DeviceFactorKind };
      readonly metadata: CommandMetadata;
    }
  | {
      /** auth-service revoked the credential (`CredentialRevoked`): the device no longer holds it. */
      readonly type: 'UnbindCredential';
      readonly data: { readonly userId: string; readonly credentialId: string };
      readonly metadata: CommandMetadata;
    }
  | {
      readonly type: 'StoreVaultBackup';
      readonly data: {
        readonly userId: string;
        readonly backupId: string;
        readonly formatVersion: number;
        readonly sizeBytes: number;
        readonly deviceId: string | null;
      };
      readonly metadata: CommandMetadata;
    }
  | {
      readonly type: 'RecordVaultRestore';
      readonly data: { readonly userId: string; readonly backupId: string; readonly deviceId: string | null };
      readonly metadata: CommandMetadata;
    };

/** Non-revoked devices per user: far above any person's, low enough to bound the stream's state. */
export const MAX_DEVICES_PER_USER = 100;

export function decide(command: DeviceCommand, state: UserDevices): readonly DeviceEvent[] {
  if (state.status === 'tracked' && command.data.userId !== state.userId) {
    throw new DomainError('stream_user_mismatch', 'the command is for another user than this stream', 'invalid');
  }
  const now = command.metadata.now.toISOString();

  switch (command.type) {
    case 'RegisterDevice': {
      const { userId, deviceId, kind, credentials, aaguid } = command.data;
      if (state.status === 'tracked' && state.devices[deviceId]) {
        throw new DomainError('device_already_registered', 'a device with this id is already registered');
      }
      const ids = credentials.map((credential) => credential.credentialId);
      if (new Set(ids).size !== ids.length) throw new DomainError('duplicate_credential', 'a credential is listed twice', 'invalid');
      for (const id of ids) assertUnbound(state, id, deviceId);
      const held = state.status === 'tracked' ? Object.values(state.devices).filter((device) => device.status !== 'revoked').length : 0;
      if (held >= MAX_DEVICES_PER_USER) {
        throw new DomainError('too_many_devices', `at most ${MAX_DEVICES_PER_USER} devices can be registered`);
      }
      return [
        emit('DeviceRegistered', {
          userId,
          deviceId,
          kind,
          name: deviceName(command.data.name),
          credentials: [...credentials],
          aaguid: aaguid === null ? null : aaguid.toLowerCase(),
          registeredAt: now,
        }),
      ];
    }

    case 'RenameDevice': {
      const device = usableDevice(state, command.data.deviceId);
      const name = deviceName(command.data.name);
      if (name === device.name) return [];
      return [emit('DeviceRenamed', { userId: command.data.userId, deviceId: device.deviceId, name, previousName: device.name })];
    }

    case 'ReportDeviceLost': {
      const device = usableDevice(state, command.data.deviceId);
      const { reason } = command.data;
      // Reporting again changes nothing, except that "lost" may turn out to be "stolen"; never the reverse.
      if (device.status === 'lost' && (device.lossReason === reason || device.lossReason === 'stolen')) return [];
      return [emit('DeviceReportedLost', { userId: command.data.userId, deviceId: device.deviceId, reason, reportedAt: now })];
    }

    case 'RevokeDevice': {
      const { userId, deviceId, context, usableFactorsOutsideDevices } = command.data;
      const device = knownDevice(state, deviceId);
      if (device.status === 'revoked') return [];
      if (!Number.isSafeInteger(usableFactorsOutsideDevices) || usableFactorsOutsideDevices < 0) {
        throw new DomainError('invalid_factor_count', 'usableFactorsOutsideDevices must be a non-negative integer', 'invalid');
      }
      // S24: only an active device's credentials get the user in, so only revoking one can take the
      // user from one usable factor to none. Revoking a lost or stolen device never can, and must
      // never be blocked: someone else may be holding it.
      const remaining = usableFactorCount(state, deviceId) + usableFactorsOutsideDevices;
      if (device.status === 'active' && device.credentials.length > 0 && remaining === 0 && context.kind !== 'recovery') {
        throw new DomainError(
          'last_factor',
          'this device holds the last usable factor; enrol another factor first, or revoke it inside a recovery (S24)',
        );
      }
      const { reason, referenceId } = revocationReason(context);
      return [
        emit('DeviceRevoked', {
          userId,
          deviceId,
          reason,
          referenceId,
          credentialIds: device.credentials.map((credential) => credential.credentialId),
          revokedAt: now,
        }),
      ];
    }

    case 'RecordDeviceUse': {
      const { userId, credentialId, usedAt } = command.data;
      const device = usableDevice(state, command.data.deviceId);
      if (!device.credentials.some((credential) => credential.credentialId === credentialId)) {
        throw new DomainError('credential_not_on_device', 'the credential is not bound to this device');
      }
      const at = usedAt.toISOString();
      // At-least-once delivery and reordering: an older or repeated use does not move "last used" back.
      if (device.lastUsedAt !== null && at <= device.lastUsedAt) return [];
      return [emit('DeviceUsed', { userId, deviceId: device.deviceId, credentialId, usedAt: at, whileReportedLost: device.status === 'lost' })];
    }

    case 'BindCredentialToDevice': {
      const { userId, credentialId, factor } = command.data;
      const device = usableDevice(state, command.data.deviceId);
      if (device.credentials.some((credential) => credential.credentialId === credentialId)) return [];
      if (device.status === 'lost') throw new DomainError('device_reported_lost', 'a device reported lost cannot take new credentials');
      assertUnbound(state, credentialId, device.deviceId);
      if (device.credentials.length >= MAX_CREDENTIALS_PER_DEVICE) {
        throw new DomainError('too_many_credentials', `a device holds at most ${MAX_CREDENTIALS_PER_DEVICE} credentials`);
      }
      return [emit('CredentialBoundToDevice', { userId, deviceId: device.deviceId, credentialId, factor, boundAt: now })];
    }

    case 'UnbindCredential': {
      const { userId, credentialId } = command.data;
      if (state.status !== 'tracked') return [];
      const device = Object.values(state.devices).find(
        (candidate) => candidate.status !== 'revoked' && candidate.credentials.some((credential) => credential.credentialId === credentialId),
      );
      // Not every credential lives on a registered device; and a repeated delivery finds nothing to do.
      if (!device) return [];
      return [emit('CredentialUnboundFromDevice', { userId, deviceId: device.deviceId, credentialId, reason: 'credential_revoked', unboundAt: now })];
    }

    case 'StoreVaultBackup': {
      const { userId, backupId, formatVersion, sizeBytes, deviceId } = command.data;
      const current = state.status === 'tracked' ? state.vaultBackup : null;
      if (current?.backupId === backupId) return [];
      if (deviceId !== null) usableDevice(state, deviceId);
      return [
        emit('VaultBackupStored', {
          userId,
          backupId,
          formatVersion,
          sizeBytes,
          deviceId,
          replacesBackupId: current?.backupId ?? null,
          storedAt: now,
        }),
      ];
    }

    case 'RecordVaultRestore': {
      const { userId, backupId, deviceId } = command.data;
      const current = state.status === 'tracked' ? state.vaultBackup : null;
      if (current?.backupId !== backupId) {
        throw new DomainError('vault_backup_not_found', 'no current vault backup has this id', 'not_found');
      }
      if (deviceId !== null) usableDevice(state, deviceId);
      return [emit('VaultBackupRestored', { userId, backupId, deviceId, restoredAt: now })];
    }

    default:
      return assertNever(command);
  }
}

export const devicesDecider: Decider<DeviceCommand, DeviceEvent, UserDevices> = { decide, evolve, initialState };

/** Credentials on active devices other than `exceptDeviceId`. */
function usableFactorCount(state: UserDevices, exceptDeviceId: string): number {
  if (state.status !== 'tracked') return 0;
  return Object.values(state.devices)
    .filter((device) => device.status === 'active' && device.deviceId !== exceptDeviceId)
    .reduce((sum, device) => sum + device.credentials.length, 0);
}

function revocationReason(context: RevocationContext): { reason: DeviceRevocationReason; referenceId: string | null } {
  switch (context.kind) {
    case 'self_service':
      return { reason: 'user_removed', referenceId: null };
    case 'recovery':
      return { reason: 'recovery', referenceId: context.recoveryId };
    case 'incident':
      return { reason: 'incident', referenceId: context.incidentId };
    default:
      return assertNever(context);
  }
}

function knownDevice(state: UserDevices, deviceId: string): Device {
  const device = state.status === 'tracked' ? state.devices[deviceId] : undefined;
  if (!device) throw new DomainError('device_not_found', 'no such device for this user', 'not_found');
  return device;
}

/** A device that may still change: a revoked one cannot be renamed, used or given credentials. */
function usableDevice(state: UserDevices, deviceId: string): Exclude<Device, { status: 'revoked' }> {
  const device = knownDevice(state, deviceId);
  if (device.status === 'revoked') throw new DomainError('device_revoked', 'the device was revoked');
  return device;
}

function assertUnbound(state: UserDevices, credentialId: string, deviceId: string): void {
  if (state.status !== 'tracked') return;
  const holder = Object.values(state.devices).find(
    (device) => device.deviceId !== deviceId && device.credentials.some((credential) => credential.credentialId === credentialId),
  );
  if (holder) throw new DomainError('credential_already_bound', 'the credential is bound to another device');
}

/**
 * Names are shown in notifications on every channel (S22), so besides length they must not carry
 * control characters or bidirectional overrides, which can make one name display as another
 * (Unicode TR #36 §2.1, "Trojan Source", CVE-2021-42574).
 */
function deviceName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0 || name.length > 64 || /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(name)) {
    throw new DomainError('invalid_device_name', 'a device name is 1–64 printable characters', 'invalid');
  }
  return name;
}

/**
 * Every event leaves through its contract schema, so ids are well-formed, sizes bounded and, as the
 * schemas are strict, nothing the contract does not name (such as a secret) can ride along (S29).
 */
function emit<T extends DeviceEventType>(type: T, data: DeviceEventData<T>): DeviceEvent {
  const result = DEVICE_EVENT_SCHEMAS[type].safeParse(data);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((issue) => issue.path.join('.') || '(data)'))].join(', ');
    throw new DomainError('invalid_command', `${type}: invalid ${fields}`, 'invalid');
  }
  return { type, data: result.data } as DeviceEvent;
}
