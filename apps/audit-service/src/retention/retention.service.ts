import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Actor } from '@tessera/contracts';
import { ChainVerifier, type RetentionCut, type SignedCheckpoint, planRetentionCut } from '@tessera/audit-domain';
import { ApiError, DATA_SOURCE, LOGGER, type Principal } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { AUDIT_SETTINGS, CLOCK } from '../audit.tokens';
import { CHECKPOINT_COLUMNS, type CheckpointRow, RECORD_COLUMNS, type AuditRecordRow, toAuditRecord, toSignedCheckpoint } from '../chain/audit-record.rows';
import { ChainAppender } from '../chain/chain-appender.service';
import { AUDIT_SERVICE_ACTOR, auditServiceEvent, staffActor } from '../common/audit-service-event';
import type { RetentionBody } from '../common/query-schemas';
import type { AuditSettings } from '../settings/audit-settings';

const DAY_MS = 86_400_000;
const LOCK = 'tessera.audit.retention';

export interface RetentionStatus {
  /** Days records are kept; null: for ever. */
  readonly retentionDays: number | null;
  /** Where the policy comes from: configuration (AUDIT_RETENTION_DAYS) or an administrator through the API. */
  readonly policySource: 'configuration' | 'api';
  readonly minimumDays: number;
  /** Records up to here were removed by retention cuts; the log starts after it. */
  readonly deletedThroughPosition: number;
  readonly headPosition: number;
  readonly oldestRecordedAt: string | null;
}

export interface RetentionRun {
  /** The cut made now, or null when no signed checkpoint lies between the last cut and the horizon. */
  readonly deletedThroughPosition: number | null;
  readonly recordsDeleted: number;
  readonly horizon: string | null;
}

/**
 * Retention (issue 7.5; libs/audit/domain CHAIN.md "Retention"), enforced without breaking
 * verification: records go only as a prefix ending exactly at a signed checkpoint, which then anchors
 * the first kept record. Before deleting anything the prefix is verified against its checkpoints:
 * records that fail verification are evidence and are never deleted (409 `chain_invalid`).
 * The cut is recorded first (the database refuses deletes beyond it), and the run itself is a record.
 *
 * The policy is the configuration's AUDIT_RETENTION_DAYS unless an administrator set one through the
 * API; neither may go below AUDIT_RETENTION_MIN_DAYS.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ChainAppender) private readonly appender: ChainAppender,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.settings.retention.intervalMs;
    if (every === 0) return;
    this.timer = setInterval(() => {
      this.run(AUDIT_SERVICE_ACTOR).then(
        (result) => result.recordsDeleted > 0 && this.logger.info({ retention: result }, 'audit retention cut applied'),
        (error: unknown) => this.logger.warn({ err: error }, 'audit retention run failed; will retry at the next interval'),
      );
    }, every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async status(): Promise<RetentionStatus> {
    const manager = this.dataSource.manager;
    const state = await this.state(manager);
    const [head]: { position: string }[] = await manager.query(`SELECT position::text FROM audit_chain_head WHERE id = 1`);
    const [oldest]: { recorded_at: Date | null }[] = await manager.query(`SELECT min(recorded_at) AS recorded_at FROM audit_records`);
    return {
      retentionDays: state.retentionDays,
      policySource: state.policySource,
      minimumDays: this.settings.retention.minDays,
      deletedThroughPosition: state.deletedThrough,
      headPosition: Number(head.position),
      oldestRecordedAt: oldest?.recorded_at?.toISOString() ?? null,
    };
  }

  async setPolicy(body: RetentionBody, principal: Principal): Promise<RetentionStatus> {
    if (body.retentionDays !== null && body.retentionDays < this.settings.retention.minDays) {
      throw new ApiError(422, 'retention_below_minimum', `Records are kept at least ${this.settings.retention.minDays} days (AUDIT_RETENTION_MIN_DAYS).`);
    }
    const now = this.clock.now();
    await this.dataSource.transaction(async (manager) => {
      const before = await this.state(manager, true);
      await manager.query(`UPDATE audit_retention_state SET retention_days = $1, policy_source = 'api', updated_at = $2 WHERE id = 1`, [body.retentionDays, now.toISOString()]);
      const data = { retentionDays: body.retentionDays, previousRetentionDays: before.retentionDays, ticket: body.ticket, ...(body.reason === undefined ? {} : { reason: body.reason }) };
      await this.appender.append(manager, [auditServiceEvent('AuditRetentionPolicyChanged', staffActor(principal), data, now)]);
    });
    return this.status();
  }

  /** Applies the policy now (the timer does the same every AUDIT_RETENTION_INTERVAL_MS). */
  async run(actor: Actor | Principal): Promise<RetentionRun> {
    const by = 'subject' in actor ? staffActor(actor) : actor;
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }]: { locked: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked`, [LOCK]);
      if (!locked) throw new ApiError(409, 'retention_in_progress', 'A retention run is in progress; retry when it has finished.');
      const state = await this.state(manager, true);
      if (state.retentionDays === null) return { deletedThroughPosition: null, recordsDeleted: 0, horizon: null };
      const horizon = new Date(now.getTime() - state.retentionDays * DAY_MS);
      const [head]: { position: string }[] = await manager.query(`SELECT position::text FROM audit_chain_head WHERE id = 1`);
      const headPosition = Number(head.position);
      const [keep]: { position: string | null }[] = await manager.query(`SELECT min(position)::text AS position FROM audit_records WHERE recorded_at >= $1`, [horizon.toISOString()]);
      const checkpointRows: CheckpointRow[] = await manager.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY to_position`);
      const checkpoints = checkpointRows.map(toSignedCheckpoint);
      const cut = planRetentionCut({
        checkpoints,
        publicKeys: this.settings.publicKeys,
        firstPositionToKeep: keep.position === null ? headPosition + 1 : Number(keep.position),
        alreadyDeletedThrough: state.deletedThrough,
        headPosition,
      });
      if (cut === null) return { deletedThroughPosition: null, recordsDeleted: 0, horizon: horizon.toISOString() };

      await this.verifyPrefix(manager, state.deletedThrough, cut, checkpoints);
      await manager.query(`UPDATE audit_retention_state SET deleted_through = $1, updated_at = $2 WHERE id = 1`, [cut.deleteThroughPosition, now.toISOString()]);
      const deleted: { count: string }[] = await manager.query(
        `WITH gone AS (DELETE FROM audit_records WHERE position > $1 AND position <= $2 RETURNING 1) SELECT count(*)::text AS count FROM gone`,
        [state.deletedThrough, cut.deleteThroughPosition],
      );
      const data = { deleteThroughPosition: cut.deleteThroughPosition, anchorPosition: cut.anchor.toPosition, retentionDays: state.retentionDays };
      await this.appender.append(manager, [auditServiceEvent('AuditRetentionApplied', by, data, now)]);
      return { deletedThroughPosition: cut.deleteThroughPosition, recordsDeleted: Number(deleted[0].count), horizon: horizon.toISOString() };
    });
  }

  /** The records about to go, checked against the checkpoints up to the cut: evidence of tampering is never deleted. */
  private async verifyPrefix(manager: EntityManager, deletedThrough: number, cut: RetentionCut, checkpoints: readonly SignedCheckpoint[]): Promise<void> {
    const verifier = new ChainVerifier({
      checkpoints: checkpoints.filter((checkpoint) => checkpoint.toPosition <= cut.deleteThroughPosition),
      publicKeys: this.settings.publicKeys,
      expectedFirstPosition: deletedThrough + 1,
      contiguousCheckpoints: true,
    });
    let after = deletedThrough;
    while (after < cut.deleteThroughPosition) {
      const rows: AuditRecordRow[] = await manager.query(
        `SELECT ${RECORD_COLUMNS} FROM audit_records WHERE position > $1 AND position <= $2 ORDER BY position LIMIT 5000`,
        [after, cut.deleteThroughPosition],
      );
      if (rows.length === 0) break;
      if (verifier.pushAll(rows.map(toAuditRecord)) === 'failed') break;
      after = Number(rows[rows.length - 1].position);
    }
    const result = verifier.finish();
    if (!result.ok) {
      throw new ApiError(409, 'chain_invalid', `Retention refused: the records to delete do not verify (position ${result.failure.position}: ${result.failure.reason}). Investigate with POST /v1/audit/verify.`);
    }
  }

  private async state(manager: EntityManager, forUpdate = false): Promise<{ deletedThrough: number; retentionDays: number | null; policySource: 'configuration' | 'api' }> {
    const [row]: { deleted_through: string; retention_days: number | null; policy_source: 'configuration' | 'api' }[] = await manager.query(
      `SELECT deleted_through::text, retention_days, policy_source FROM audit_retention_state WHERE id = 1${forUpdate ? ' FOR UPDATE' : ''}`,
    );
    const retentionDays = row.policy_source === 'api' ? row.retention_days : this.settings.retention.defaultDays;
    return { deletedThrough: Number(row.deleted_through), retentionDays, policySource: row.policy_source };
  }
}
