import { Injectable } from '@nestjs/common';
import { type DeviceEvent, isDeviceEventType } from '@tessera/contracts';
import { assertNever } from '@tessera/event-sourcing';
import { type InlineProjection, type StoredEvent } from '@tessera/event-store';
import type { EntityManager } from 'typeorm';

/**
 * The device, credential and vault read models, written in the same transaction as the events
 * (InlineProjection), so that a list or a readiness assessment is never behind a command that has
 * returned. They mirror the fold in @tessera/device-domain's `evolve`; the events stay the truth.
 */
@Injectable()
export class DeviceViewsProjection implements InlineProjection {
  readonly name = 'device-views';

  async apply(events: readonly StoredEvent[], manager: EntityManager): Promise<void> {
    for (const stored of events) {
      if (!isDeviceEventType(stored.type)) continue;
      await this.applyOne({ type: stored.type, data: stored.data } as DeviceEvent, manager);
    }
  }

  private async applyOne(event: DeviceEvent, manager: EntityManager): Promise<void> {
    switch (event.type) {
      case 'DeviceRegistered': {
        const { deviceId, userId, kind, name, aaguid, registeredAt } = event.data;
        const credentials = event.data.credentials.map((credential) => ({ ...credential, boundAt: registeredAt }));
        await manager.query(
          `INSERT INTO device_views (device_id, user_id, kind, name, status, aaguid, credentials, registered_at)
           VALUES ($1, $2, $3, $4, 'active', $5, $6::jsonb, $7)`,
          [deviceId, userId, kind, name, aaguid, JSON.stringify(credentials), registeredAt],
        );
        for (const credential of credentials) {
          await bindCredential(manager, userId, deviceId, credential.credentialId, credential.factor, registeredAt);
        }
        return;
      }
      case 'DeviceRenamed':
        await manager.query(`UPDATE device_views SET name = $2 WHERE device_id = $1`, [event.data.deviceId, event.data.name]);
        return;
      case 'DeviceReportedLost':
        await manager.query(`UPDATE device_views SET status = 'lost', loss_reason = $2, reported_at = $3 WHERE device_id = $1`, [
          event.data.deviceId,
          event.data.reason,
          event.data.reportedAt,
        ]);
        return;
      case 'DeviceRevoked':
        await manager.query(
          `UPDATE device_views
              SET status = 'revoked', loss_reason = NULL, reported_at = NULL,
                  revocation_reason = $2, revocation_reference = $3, revoked_at = $4
            WHERE device_id = $1`,
          [event.data.deviceId, event.data.reason, event.data.referenceId, event.data.revokedAt],
        );
        return;
      case 'DeviceUsed':
        await manager.query(
          `UPDATE device_views SET last_used_at = GREATEST(coalesce(last_used_at, $2::timestamptz), $2::timestamptz) WHERE device_id = $1`,
          [event.data.deviceId, event.data.usedAt],
        );
        return;
      case 'CredentialBoundToDevice': {
        const { userId, deviceId, credentialId, factor, boundAt } = event.data;
        await manager.query(`UPDATE device_views SET credentials = credentials || $2::jsonb WHERE device_id = $1`, [
          deviceId,
          JSON.stringify([{ credentialId, factor, boundAt }]),
        ]);
        await bindCredential(manager, userId, deviceId, credentialId, factor, boundAt);
        return;
      }
      case 'CredentialUnboundFromDevice':
        await manager.query(
          `UPDATE device_views
              SET credentials = (SELECT coalesce(jsonb_agg(entry ORDER BY position), '[]'::jsonb)
                                   FROM jsonb_array_elements(credentials) WITH ORDINALITY AS t(entry, position)
                                  WHERE entry->>'credentialId' <> $2)
            WHERE device_id = $1`,
          [event.data.deviceId, event.data.credentialId],
        );
        await manager.query(`DELETE FROM device_credentials WHERE credential_id = $1 AND device_id = $2`, [event.data.credentialId, event.data.deviceId]);
        return;
      case 'VaultBackupStored': {
        const { backupId, userId, formatVersion, sizeBytes, deviceId, replacesBackupId, storedAt } = event.data;
        await manager.query(
          `INSERT INTO vault_backups (backup_id, user_id, version, format_version, size_bytes, device_id, replaces_backup_id, stored_at)
           SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7 FROM vault_backups WHERE user_id = $2`,
          [backupId, userId, formatVersion, sizeBytes, deviceId, replacesBackupId, storedAt],
        );
        return;
      }
      case 'VaultBackupRestored':
        await manager.query(
          `UPDATE vault_backups SET last_restored_at = $2, restore_count = restore_count + 1 WHERE backup_id = $1`,
          [event.data.backupId, event.data.restoredAt],
        );
        return;
      case 'RecoveryReadinessDropped':
        // A notification trigger; the level itself lives in readiness_levels.
        return;
      default:
        assertNever(event);
    }
  }
}

async function bindCredential(manager: EntityManager, userId: string, deviceId: string, credentialId: string, factor: string, boundAt: string): Promise<void> {
  await manager.query(
    `INSERT INTO device_credentials (credential_id, device_id, user_id, factor, bound_at) VALUES ($1, $2, $3, $4, $5)`,
    [credentialId, deviceId, userId, factor, boundAt],
  );
}
