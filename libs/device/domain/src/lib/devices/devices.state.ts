import {
  type BoundCredential,
  type DeviceEvent,
  type DeviceKind,
  type DeviceLossReason,
  type DeviceRevocationReason,
} from '@tessera/contracts';

/**
 * One user's devices as they see them (DESIGN.md, device-registry), folded from the stream
 * `devices-user-<userId>`. Events, state and `evolve` live together; commands and `decide` are in
 * devices.decider.ts (STYLE.md, after Emmett's feature layout).
 */

/** A credential on a device, with when it was bound (readiness compares it with the vault backup's age). */
export interface DeviceCredential extends BoundCredential {
  readonly boundAt: string;
}

interface DeviceBase {
  readonly deviceId: string;
  readonly kind: DeviceKind;
  readonly name: string;
  /** Every credential bound and not unbound; for a revoked device, those that stopped with it. */
  readonly credentials: readonly DeviceCredential[];
  readonly aaguid: string | null;
  readonly registeredAt: string;
  readonly lastUsedAt: string | null;
}

export interface ActiveDevice extends DeviceBase {
  readonly status: 'active';
}

/** Still registered (its credentials still verify) but the user does not have it. */
export interface LostDevice extends DeviceBase {
  readonly status: 'lost';
  readonly lossReason: DeviceLossReason;
  readonly reportedAt: string;
}

export interface RevokedDevice extends DeviceBase {
  readonly status: 'revoked';
  readonly revocationReason: DeviceRevocationReason;
  readonly revokedAt: string;
}

export type Device = ActiveDevice | LostDevice | RevokedDevice;

/** What the registry knows about the user's encrypted authenticator backup: never its content (S29, S31). */
export interface VaultBackupInfo {
  readonly backupId: string;
  readonly formatVersion: number;
  readonly sizeBytes: number;
  readonly deviceId: string | null;
  readonly storedAt: string;
  readonly lastRestoredAt: string | null;
}

export type UserDevices =
  | { readonly status: 'empty' }
  | {
      readonly status: 'tracked';
      readonly userId: string;
      readonly devices: Readonly<Record<string, Device>>;
      readonly vaultBackup: VaultBackupInfo | null;
    };

export function initialState(): UserDevices {
  return { status: 'empty' };
}

export function evolve(state: UserDevices, event: DeviceEvent): UserDevices {
  const tracked =
    state.status === 'tracked' ? state : { status: 'tracked' as const, userId: event.data.userId, devices: {}, vaultBackup: null };
  const update = (deviceId: string, change: (device: Device) => Device): UserDevices => {
    const device = tracked.devices[deviceId];
    return device ? { ...tracked, devices: { ...tracked.devices, [deviceId]: change(device) } } : tracked;
  };

  switch (event.type) {
    case 'DeviceRegistered': {
      const { deviceId, kind, name, aaguid, registeredAt } = event.data;
      const credentials = event.data.credentials.map((credential) => ({ ...credential, boundAt: registeredAt }));
      const device: ActiveDevice = { status: 'active', deviceId, kind, name, credentials, aaguid, registeredAt, lastUsedAt: null };
      return { ...tracked, devices: { ...tracked.devices, [deviceId]: device } };
    }
    case 'DeviceRenamed':
      return update(event.data.deviceId, (device) => ({ ...device, name: event.data.name }));
    case 'DeviceReportedLost':
      return update(event.data.deviceId, (device) => ({
        ...withoutStatusFields(device),
        status: 'lost',
        lossReason: event.data.reason,
        reportedAt: event.data.reportedAt,
      }));
    case 'DeviceRevoked':
      return update(event.data.deviceId, (device) => ({
        ...withoutStatusFields(device),
        status: 'revoked',
        revocationReason: event.data.reason,
        revokedAt: event.data.revokedAt,
      }));
    case 'DeviceUsed':
      return update(event.data.deviceId, (device) => ({ ...device, lastUsedAt: event.data.usedAt }));
    case 'CredentialBoundToDevice':
      return update(event.data.deviceId, (device) => ({
        ...device,
        credentials: [...device.credentials, { credentialId: event.data.credentialId, factor: event.data.factor, boundAt: event.data.boundAt }],
      }));
    case 'CredentialUnboundFromDevice':
      return update(event.data.deviceId, (device) => ({
        ...device,
        credentials: device.credentials.filter((credential) => credential.credentialId !== event.data.credentialId),
      }));
    case 'VaultBackupStored': {
      const { backupId, formatVersion, sizeBytes, deviceId, storedAt } = event.data;
      return { ...tracked, vaultBackup: { backupId, formatVersion, sizeBytes, deviceId, storedAt, lastRestoredAt: null } };
    }
    case 'VaultBackupRestored':
      return tracked.vaultBackup?.backupId === event.data.backupId
        ? { ...tracked, vaultBackup: { ...tracked.vaultBackup, lastRestoredAt: event.data.restoredAt } }
        : tracked;
    case 'RecoveryReadinessDropped':
      // Recorded for notifications and audit; the level itself is recomputed from facts, not stored.
      return tracked;
    default:
      return state;
  }
}

function withoutStatusFields(device: Device): DeviceBase {
  const { deviceId, kind, name, credentials, aaguid, registeredAt, lastUsedAt } = device;
  return { deviceId, kind, name, credentials, aaguid, registeredAt, lastUsedAt };
}

/** Devices the user still holds: only their credentials can get the user back in. */
export function activeDevices(state: UserDevices): readonly ActiveDevice[] {
  return state.status === 'tracked' ? Object.values(state.devices).filter((device): device is ActiveDevice => device.status === 'active') : [];
}

/** The device holding a credential, whatever its status. */
export function deviceHoldingCredential(state: UserDevices, credentialId: string): Device | undefined {
  if (state.status !== 'tracked') return undefined;
  return Object.values(state.devices).find((device) => device.credentials.some((credential) => credential.credentialId === credentialId));
}
