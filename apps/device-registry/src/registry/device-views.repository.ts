import { Inject, Injectable } from '@nestjs/common';
import { type DeviceFactorKind, type DeviceKind, type DeviceLossReason, type DeviceRevocationReason } from '@tessera/contracts';
import { type Device, type DeviceCredential, type UserDevices, type VaultBackupInfo } from '@tessera/device-domain';
import { DATA_SOURCE } from '@tessera/platform';
import type { DataSource, EntityManager } from 'typeorm';

export type DeviceStatus = Device['status'];

/** A row of `device_views`, as the API and the readiness assessment read it. */
export interface DeviceView {
  readonly deviceId: string;
  readonly userId: string;
  readonly kind: DeviceKind;
  readonly name: string;
  readonly status: DeviceStatus;
  readonly aaguid: string | null;
  readonly credentials: readonly DeviceCredential[];
  readonly registeredAt: string;
  readonly lastUsedAt: string | null;
  readonly lossReason: DeviceLossReason | null;
  readonly reportedAt: string | null;
  readonly revocationReason: DeviceRevocationReason | null;
  readonly revocationReference: string | null;
  readonly revokedAt: string | null;
}

export interface VaultBackupView {
  readonly backupId: string;
  readonly userId: string;
  readonly version: number;
  readonly formatVersion: number;
  readonly sizeBytes: number;
  readonly deviceId: string | null;
  readonly replacesBackupId: string | null;
  readonly storedAt: string;
  readonly lastRestoredAt: string | null;
  readonly restoreCount: number;
}

interface DeviceRow {
  device_id: string;
  user_id: string;
  kind: DeviceKind;
  name: string;
  status: DeviceStatus;
  aaguid: string | null;
  credentials: { credentialId: string; factor: DeviceFactorKind; boundAt: string }[];
  registered_at: Date;
  last_used_at: Date | null;
  loss_reason: DeviceLossReason | null;
  reported_at: Date | null;
  revocation_reason: DeviceRevocationReason | null;
  revocation_reference: string | null;
  revoked_at: Date | null;
}

interface VaultRow {
  backup_id: string;
  user_id: string;
  version: number;
  format_version: number;
  size_bytes: number;
  device_id: string | null;
  replaces_backup_id: string | null;
  stored_at: Date;
  last_restored_at: Date | null;
  restore_count: number;
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);
const DEVICE_COLUMNS = `device_id, user_id, kind, name, status, aaguid, credentials, registered_at, last_used_at,
  loss_reason, reported_at, revocation_reason, revocation_reference, revoked_at`;

/** Reads of the device-registry read models (written by DeviceViewsProjection). */
@Injectable()
export class DeviceViewsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async listByUser(userId: string, status?: DeviceStatus, manager: EntityManager = this.dataSource.manager): Promise<DeviceView[]> {
    const rows: DeviceRow[] = await manager.query(
      `SELECT ${DEVICE_COLUMNS} FROM device_views
        WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY registered_at, device_id`,
      [userId, status ?? null],
    );
    return rows.map(toView);
  }

  async get(deviceId: string, manager: EntityManager = this.dataSource.manager): Promise<DeviceView | null> {
    const rows: DeviceRow[] = await manager.query(`SELECT ${DEVICE_COLUMNS} FROM device_views WHERE device_id = $1`, [deviceId]);
    return rows.length > 0 ? toView(rows[0]) : null;
  }

  /** The device holding a credential now (a credential is bound to at most one device at a time). */
  async deviceOfCredential(credentialId: string, manager: EntityManager = this.dataSource.manager): Promise<DeviceView | null> {
    const rows: DeviceRow[] = await manager.query(
      `SELECT ${DEVICE_COLUMNS} FROM device_views
        WHERE device_id = (SELECT device_id FROM device_credentials WHERE credential_id = $1)`,
      [credentialId],
    );
    return rows.length > 0 ? toView(rows[0]) : null;
  }

  async vaultBackups(userId: string, limit = 20, manager: EntityManager = this.dataSource.manager): Promise<VaultBackupView[]> {
    const rows: VaultRow[] = await manager.query(
      `SELECT backup_id, user_id, version, format_version, size_bytes, device_id, replaces_backup_id, stored_at, last_restored_at, restore_count
         FROM vault_backups WHERE user_id = $1 ORDER BY version DESC LIMIT $2`,
      [userId, limit],
    );
    return rows.map((row) => ({
      backupId: row.backup_id,
      userId: row.user_id,
      version: row.version,
      formatVersion: row.format_version,
      sizeBytes: row.size_bytes,
      deviceId: row.device_id,
      replacesBackupId: row.replaces_backup_id,
      storedAt: row.stored_at.toISOString(),
      lastRestoredAt: iso(row.last_restored_at),
      restoreCount: row.restore_count,
    }));
  }

  /**
   * The user's devices and vault backup in the shape of the domain's fold, rebuilt from the read
   * models (reading the stream would cost one row per event ever recorded, uses included).
   */
  async userState(userId: string, manager: EntityManager = this.dataSource.manager): Promise<UserDevices> {
    // One after the other: inside a transaction both queries share one connection.
    const views = await this.listByUser(userId, undefined, manager);
    const [latest] = await this.vaultBackups(userId, 1, manager);
    if (views.length === 0 && !latest) return { status: 'empty' };
    const devices = Object.fromEntries(views.map((view) => [view.deviceId, toDevice(view)]));
    const vaultBackup: VaultBackupInfo | null = latest
      ? {
          backupId: latest.backupId,
          formatVersion: latest.formatVersion,
          sizeBytes: latest.sizeBytes,
          deviceId: latest.deviceId,
          storedAt: latest.storedAt,
          lastRestoredAt: latest.lastRestoredAt,
        }
      : null;
    return { status: 'tracked', userId, devices, vaultBackup };
  }
}

function toView(row: DeviceRow): DeviceView {
  return {
    deviceId: row.device_id,
    userId: row.user_id,
    kind: row.kind,
    name: row.name,
    status: row.status,
    aaguid: row.aaguid,
    credentials: row.credentials,
    registeredAt: row.registered_at.toISOString(),
    lastUsedAt: iso(row.last_used_at),
    lossReason: row.loss_reason,
    reportedAt: iso(row.reported_at),
    revocationReason: row.revocation_reason,
    revocationReference: row.revocation_reference,
    revokedAt: iso(row.revoked_at),
  };
}

function toDevice(view: DeviceView): Device {
  const base = {
    deviceId: view.deviceId,
    kind: view.kind,
    name: view.name,
    credentials: view.credentials,
    aaguid: view.aaguid,
    registeredAt: view.registeredAt,
    lastUsedAt: view.lastUsedAt,
  };
  switch (view.status) {
    case 'active':
      return { ...base, status: 'active' };
    case 'lost':
      return { ...base, status: 'lost', lossReason: view.lossReason ?? 'lost', reportedAt: view.reportedAt ?? view.registeredAt };
    case 'revoked':
      return { ...base, status: 'revoked', revocationReason: view.revocationReason ?? 'user_removed', revokedAt: view.revokedAt ?? view.registeredAt };
  }
}
