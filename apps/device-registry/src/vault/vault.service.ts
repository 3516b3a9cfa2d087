import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ApiError, CONFIG, LOGGER, type Principal } from '@tessera/platform';
import { type Clock, uuidv7 } from '@tessera/util';
import { VaultError, readVaultHeader } from '@tessera/vault-client';
import type { Logger } from 'pino';
import { assertMay, requestMetadata } from '../common/access';
import { CLOCK, STEP_UP_VERIFIER } from '../common/tokens';
import { type DeviceRegistryConfig } from '../config';
import { DeviceCommands } from '../registry/device-commands';
import { type VaultBackupView, DeviceViewsRepository } from '../registry/device-views.repository';
import { RateLimiter } from '../registry/rate-limiter';
import { RegistryMetrics } from '../registry/registry-metrics';
import { type StepUpVerifier, consumeStepUp } from '../registry/step-up.verifier';
import { type RestoreBody } from './vault.schemas';

const HOUR_MS = 60 * 60_000;
/** The OWASP scrypt minimum (N = 2^17, r = 8) as N·r: what libs/vault-client writes by default. */
const SCRYPT_BLOCK_SIZE_R = 8;

export interface StoredBackup extends VaultBackupView {
  readonly sha256: string;
}

/**
 * The zero-knowledge authenticator backup vault (S31; DESIGN.md ladder rung 3). The server holds an
 * opaque blob per user — encrypted on the client under a passphrase the server never sees — and reads
 * only its public header, to refuse what is not a vault blob or is protected by a KDF weaker than
 * policy. Restoring needs a recent step-up, is rate-limited, and is recorded as `VaultBackupRestored`,
 * which notifies like a new binding and reaches the audit log.
 */
@Injectable()
export class VaultService {
  constructor(
    @Inject(CONFIG) private readonly config: DeviceRegistryConfig,
    @Inject(DeviceCommands) private readonly commands: DeviceCommands,
    @Inject(DeviceViewsRepository) private readonly views: DeviceViewsRepository,
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
    @Inject(STEP_UP_VERIFIER) private readonly stepUp: StepUpVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(RegistryMetrics) private readonly metrics: RegistryMetrics,
  ) {}

  async info(principal: Principal, userId: string): Promise<{ userId: string; current: VaultBackupView | null; versions: VaultBackupView[] }> {
    assertMay(principal, userId, 'read');
    const versions = await this.views.vaultBackups(userId);
    return { userId, current: versions[0] ?? null, versions };
  }

  async store(principal: Principal, userId: string, blob: Buffer, deviceId: string | null): Promise<StoredBackup> {
    assertMay(principal, userId, 'vault-write');
    const formatVersion = this.checkBlob(blob);
    const now = this.clock.now();
    await this.limiter.hit(`vault-upload:${userId}`, this.config.VAULT_UPLOADS_PER_HOUR, HOUR_MS, now, 'vault uploads');
    const backupId = uuidv7(now.getTime());
    const sha256 = createHash('sha256').update(blob).digest('hex');
    await this.commands.execute(
      { type: 'StoreVaultBackup', data: { userId, backupId, formatVersion, sizeBytes: blob.length, deviceId }, metadata: { now } },
      requestMetadata(principal, userId),
      async (manager, events) => {
        if (events.length === 0) return;
        // The previous blob is replaced, not kept (see the migration: old copies are targets, not assets).
        await manager.query(
          `INSERT INTO vault_blob_contents (user_id, backup_id, sha256, content) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id) DO UPDATE SET backup_id = EXCLUDED.backup_id, sha256 = EXCLUDED.sha256, content = EXCLUDED.content`,
          [userId, backupId, sha256, blob],
        );
      },
    );
    this.logger.info({ userId, backupId, sizeBytes: blob.length }, 'vault backup stored');
    this.metrics.vault.inc({ operation: 'upload', outcome: 'stored' });
    const [stored] = await this.views.vaultBackups(userId, 1);
    return { ...stored, sha256 };
  }

  async restore(
    principal: Principal,
    userId: string,
    body: RestoreBody,
    stepUpAssertion: string | undefined,
  ): Promise<StoredBackup & { restoredAt: string; blob: string }> {
    assertMay(principal, userId, 'vault-restore');
    const now = this.clock.now();
    const stepUp = await this.stepUp.verify(stepUpAssertion, userId, now);
    await this.limiter.hit(`vault-restore:${userId}`, this.config.VAULT_RESTORES_PER_HOUR, HOUR_MS, now, 'vault restores');
    const [current] = await this.views.vaultBackups(userId, 1);
    if (!current) throw new ApiError(404, 'vault_backup_not_found', 'This account has no vault backup.');
    const backupId = body.backupId ?? current.backupId;

    let content: { sha256: string; content: Buffer } | undefined;
    await this.commands.execute(
      { type: 'RecordVaultRestore', data: { userId, backupId, deviceId: body.deviceId ?? null }, metadata: { now } },
      requestMetadata(principal, userId),
      async (manager) => {
        // In the restore's own transaction: the assertion is spent if and only if the restore is recorded.
        await consumeStepUp(manager, stepUp, 'vault-restore', null, now);
        const rows: { sha256: string; content: Buffer }[] = await manager.query(
          `SELECT sha256, content FROM vault_blob_contents WHERE user_id = $1 AND backup_id = $2`,
          [userId, backupId],
        );
        if (rows.length === 0) throw new ApiError(404, 'vault_backup_not_found', 'No current vault backup has this id.');
        content = rows[0];
      },
    );
    if (!content) throw new ApiError(404, 'vault_backup_not_found', 'No current vault backup has this id.');
    this.logger.info({ userId, backupId, deviceId: body.deviceId ?? null }, 'vault backup restored');
    this.metrics.vault.inc({ operation: 'restore', outcome: 'restored' });
    const [restored] = await this.views.vaultBackups(userId, 1);
    return { ...restored, sha256: content.sha256, restoredAt: now.toISOString(), blob: content.content.toString('base64') };
  }

  /**
   * What the server can check without any secret (libs/vault-client FORMAT.md "What a reader refuses"):
   * magic, version and KDF bounds. On top, a policy floor on the KDF cost, so a client cannot leave a
   * user's TOTP secrets behind a passphrase that is cheap to guess offline.
   */
  private checkBlob(blob: Buffer): number {
    if (blob.length === 0) throw new ApiError(400, 'empty_body', 'The request body must be the vault blob.');
    let header: ReturnType<typeof readVaultHeader>;
    try {
      header = readVaultHeader(blob);
    } catch (error) {
      if (error instanceof VaultError) throw new ApiError(422, 'invalid_vault_blob', `This is not a vault blob this server accepts (${error.code}).`);
      throw error;
    }
    if (2 ** header.kdf.log2N * header.kdf.r < 2 ** this.config.VAULT_MIN_SCRYPT_LOG2N * SCRYPT_BLOCK_SIZE_R) {
      throw new ApiError(
        422,
        'weak_vault_kdf',
        `The blob's scrypt cost (N=2^${header.kdf.log2N}, r=${header.kdf.r}) is below this server's minimum (N·r ≥ 2^${this.config.VAULT_MIN_SCRYPT_LOG2N}·8).`,
      );
    }
    return header.formatVersion;
  }
}
