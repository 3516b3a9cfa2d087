import { Inject, Injectable } from '@nestjs/common';
import { type ChainFailure, type ChainVerification, ChainVerifier, type SignedCheckpoint } from '@tessera/audit-domain';
import { ApiError, DATA_SOURCE } from '@tessera/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { AUDIT_SETTINGS } from '../audit.tokens';
import { CHECKPOINT_COLUMNS, type CheckpointRow, RECORD_COLUMNS, type AuditRecordRow, toAuditRecord, toSignedCheckpoint } from '../chain/audit-record.rows';
import { CheckpointSink } from '../chain/checkpoint-sink.service';
import { AuditMetrics } from '../common/audit-metrics.service';
import type { AuditSettings } from '../settings/audit-settings';

const PAGE = 5_000;

export interface VerifyOptions {
  /** Also read the checkpoints from the separate sink and hold the database to them. */
  readonly includeSink?: boolean;
}

export type VerificationReport = ChainVerification & {
  /** The chain head row's position: records up to it must be present. */
  readonly headPosition: number;
  /** Positions removed by retention cuts (the log starts after them). */
  readonly retentionDeletedThrough: number;
  readonly checkpointSources: { readonly database: number; readonly sink: number | null; readonly sinkMalformed: number | null };
};

/**
 * `POST /v1/audit/verify` and `tessera audit verify` (R8): reads the whole log in position order in
 * one read-only REPEATABLE READ snapshot (records, checkpoints, head and retention state agree with
 * each other), streams it through the domain's ChainVerifier and names the first bad position.
 *
 * Beyond the domain verifier: checkpoints must be contiguous and no more than the policy's `every`
 * records may follow the newest one (a checkpoint deleted along with a rewrite is found), the log
 * must start right after the recorded retention cut and reach the head row's position (a tail deleted
 * behind the head is found), and optionally the sink's checkpoints are checked too.
 *
 * One verification at a time per instance: it reads every record, and running several at once would
 * only starve ingestion (429 `verification_in_progress`).
 */
@Injectable()
export class ChainVerificationService {
  private inProgress = false;

  constructor(
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CheckpointSink) private readonly sink: CheckpointSink,
    @Inject(AuditMetrics) private readonly metrics: AuditMetrics,
  ) {}

  async verify(options: VerifyOptions = {}): Promise<VerificationReport> {
    if (this.inProgress) throw new ApiError(429, 'verification_in_progress', 'A verification is already running on this instance; retry when it has finished.');
    this.inProgress = true;
    try {
      // Read the sink first: whatever it holds was published from a snapshot at or before the one read next.
      const sink = options.includeSink ? await this.sink.readSink() : null;
      const report = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
        await manager.query('SET TRANSACTION READ ONLY');
        return this.verifySnapshot(manager, sink?.checkpoints ?? []).then((result) => ({
          ...result,
          checkpointSources: { ...result.checkpointSources, sink: sink?.checkpoints.length ?? null, sinkMalformed: sink?.malformed ?? null },
        }));
      });
      this.metrics.verifications.inc({ result: report.ok ? 'ok' : 'failed' });
      return report;
    } finally {
      this.inProgress = false;
    }
  }

  private async verifySnapshot(manager: EntityManager, sinkCheckpoints: readonly SignedCheckpoint[]): Promise<VerificationReport> {
    const [head]: { position: string }[] = await manager.query(`SELECT position::text FROM audit_chain_head WHERE id = 1`);
    const [retention]: { deleted_through: string }[] = await manager.query(`SELECT deleted_through::text FROM audit_retention_state WHERE id = 1`);
    const headPosition = Number(head?.position ?? 0);
    const deletedThrough = Number(retention?.deleted_through ?? 0);
    const stored: CheckpointRow[] = await manager.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY to_position`);
    const checkpoints = mergeCheckpoints(stored.map(toSignedCheckpoint), sinkCheckpoints);

    const verifier = new ChainVerifier({
      checkpoints,
      publicKeys: this.settings.publicKeys,
      expectedFirstPosition: deletedThrough + 1,
      checkpointEvery: this.settings.checkpointPolicy.every,
    });
    // Keyset pages; with the snapshot, a page boundary never skips or repeats a row. The next page is
    // asked for before this one is hashed, so PostgreSQL reads it while Node computes.
    const page = (after: number): Promise<AuditRecordRow[]> => manager.query(`SELECT ${RECORD_COLUMNS} FROM audit_records WHERE position > $1 ORDER BY position LIMIT ${PAGE}`, [after]);
    let next: Promise<AuditRecordRow[]> = page(0);
    for (;;) {
      const rows = await next;
      if (rows.length === 0) break;
      next = rows.length < PAGE ? Promise.resolve([]) : page(Number(rows[rows.length - 1].position));
      if (verifier.pushAll(rows.map(toAuditRecord)) === 'failed') {
        await next;
        break;
      }
    }
    let result: ChainVerification = verifier.finish();
    if (result.ok) {
      const last = result.lastPosition ?? deletedThrough;
      if (last < headPosition) {
        const failure: ChainFailure = { position: last + 1, reason: 'position_gap', message: `the log ends at ${last} but its head row records position ${headPosition}: the tail was deleted` };
        result = { ok: false, failure, recordsChecked: result.recordCount };
      }
    }
    return {
      ...result,
      headPosition,
      retentionDeletedThrough: deletedThrough,
      checkpointSources: { database: stored.length, sink: null, sinkMalformed: null },
    };
  }
}

/** The database's checkpoints plus the sink's, each distinct checkpoint once; conflicting ones both stay. */
export function mergeCheckpoints(database: readonly SignedCheckpoint[], sink: readonly SignedCheckpoint[]): SignedCheckpoint[] {
  const seen = new Set<string>();
  const merged: SignedCheckpoint[] = [];
  for (const checkpoint of [...database, ...sink]) {
    const id = `${checkpoint.toPosition}:${checkpoint.signature}:${checkpoint.headHash}:${checkpoint.fromPosition}:${checkpoint.createdAt}:${checkpoint.keyId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    merged.push(checkpoint);
  }
  return merged;
}
