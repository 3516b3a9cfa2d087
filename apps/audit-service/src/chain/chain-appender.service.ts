import { Inject, Injectable } from '@nestjs/common';
import {
  type AuditEntry,
  AuditError,
  type AuditRecord,
  CanonicalJsonError,
  type ChainHead,
  DataKeyError,
  type SignedCheckpoint,
  appendToChain,
  createCheckpoint,
  headOf,
  isCheckpointDue,
  sealAuditEntry,
  toAuditEntry,
} from '@tessera/audit-domain';
import type { EventEnvelope } from '@tessera/contracts';
import { PermanentEventError } from '@tessera/event-store';
import type { Clock } from '@tessera/util';
import type { EntityManager } from 'typeorm';
import { AUDIT_SETTINGS, CLOCK } from '../audit.tokens';
import { AuditMetrics } from '../common/audit-metrics.service';
import { storableEnvelope } from '../common/storable';
import { DataKeyStore } from '../data-keys/data-key.store';
import type { AuditSettings } from '../settings/audit-settings';
import { CHECKPOINT_COLUMNS, INSERT_RECORDS, recordColumns } from './audit-record.rows';

export interface SourcedEvent {
  readonly event: EventEnvelope;
  /** The `tessera.*` topic it came from. */
  readonly source: string;
}

export interface AppendResult {
  readonly records: readonly AuditRecord[];
  readonly checkpoints: readonly SignedCheckpoint[];
}

interface HeadRow {
  position: string;
  hash: string;
  last_checkpoint_position: string;
}

/**
 * Appends events to the hash chain inside the caller's transaction (the consumer's, so the record and
 * the dedupe row commit together; R1, R8).
 *
 * Appends are serialised by locking the single head row FOR UPDATE: positions are dense and follow
 * commit order, and a batch that rolls back leaves no hole. Everything that does not depend on the
 * head (mapping, data keys, sealing) happens before the lock, so the critical section is hashing and
 * one multi-row INSERT per batch. A checkpoint is signed in the same transaction whenever a position
 * is due under the policy, so a committed record is never past a missing checkpoint.
 */
@Injectable()
export class ChainAppender {
  constructor(
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DataKeyStore) private readonly dataKeys: DataKeyStore,
    @Inject(AuditMetrics) private readonly metrics: AuditMetrics,
  ) {}

  async append(manager: EntityManager, events: readonly SourcedEvent[]): Promise<AppendResult> {
    if (events.length === 0) return { records: [], checkpoints: [] };
    const now = this.clock.now();
    const recordedAt = now.toISOString();
    const entries = events.map(({ event, source }) => permanent(() => toAuditEntry(storableEnvelope(event), { source, recordedAt })));
    const keys = await this.dataKeys.keysFor(manager, subjectsOf(entries), now);
    const sealed = entries.map((entry) => permanent(() => sealAuditEntry(entry, entry.dataSubjectId === null ? null : (keys.get(entry.dataSubjectId) ?? null))));

    const head = await this.lockHead(manager);
    // Consumers dedupe by event id already; this keeps an id that reaches the log another way
    // (a replay into a new consumer group) from stalling on the unique index.
    const known: { event_id: string }[] = await manager.query(`SELECT event_id FROM audit_records WHERE event_id = ANY($1::uuid[])`, [sealed.map((entry) => entry.eventId)]);
    const skip = new Set(known.map((row) => row.event_id));

    let chainHead: ChainHead = { position: Number(head.position), hash: head.hash };
    let lastCheckpoint = Number(head.last_checkpoint_position);
    const records: AuditRecord[] = [];
    const checkpoints: SignedCheckpoint[] = [];
    for (const entry of sealed) {
      if (skip.has(entry.eventId)) continue;
      skip.add(entry.eventId);
      const record = permanent(() => appendToChain(chainHead, entry));
      records.push(record);
      chainHead = headOf(record);
      if (isCheckpointDue(record.position, this.settings.checkpointPolicy)) {
        checkpoints.push(createCheckpoint({ previousToPosition: lastCheckpoint, head: chainHead, createdAt: recordedAt }, this.settings.signer));
        lastCheckpoint = record.position;
      }
    }
    if (records.length === 0) return { records, checkpoints };

    await manager.query(INSERT_RECORDS, recordColumns(records));
    await this.insertCheckpoints(manager, checkpoints);
    await manager.query(`UPDATE audit_chain_head SET position = $1, hash = $2, last_checkpoint_position = $3 WHERE id = 1`, [chainHead.position, chainHead.hash, lastCheckpoint]);

    for (const record of records) this.metrics.recordsAppended.inc({ source: record.source });
    if (checkpoints.length > 0) this.metrics.checkpointsCreated.inc({ trigger: 'count' }, checkpoints.length);
    this.metrics.headPosition.set(chainHead.position);
    return { records, checkpoints };
  }

  /**
   * Signs the current head if records were appended since the last checkpoint: run on a timer so a
   * quiet log's tail is not left protected by the chain alone (libs/audit/domain CHAIN.md, known limit).
   */
  async checkpointHead(manager: EntityManager): Promise<SignedCheckpoint | null> {
    const head = await this.lockHead(manager);
    const position = Number(head.position);
    const lastCheckpoint = Number(head.last_checkpoint_position);
    if (position === lastCheckpoint) return null;
    const checkpoint = createCheckpoint({ previousToPosition: lastCheckpoint, head: { position, hash: head.hash }, createdAt: this.clock.now().toISOString() }, this.settings.signer);
    await this.insertCheckpoints(manager, [checkpoint]);
    await manager.query(`UPDATE audit_chain_head SET last_checkpoint_position = $1 WHERE id = 1`, [position]);
    this.metrics.checkpointsCreated.inc({ trigger: 'interval' });
    return checkpoint;
  }

  private async lockHead(manager: EntityManager): Promise<HeadRow> {
    const rows: HeadRow[] = await manager.query(`SELECT position::text, hash, last_checkpoint_position::text FROM audit_chain_head WHERE id = 1 FOR UPDATE`);
    if (rows.length === 0) throw new Error('the audit chain head row is missing');
    return rows[0];
  }

  private async insertCheckpoints(manager: EntityManager, checkpoints: readonly SignedCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    await manager.query(
      `INSERT INTO audit_checkpoints (${CHECKPOINT_COLUMNS})
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::timestamptz[], $6::text[], $7::text[])`,
      [
        checkpoints.map((c) => c.toPosition),
        checkpoints.map((c) => c.fromPosition),
        checkpoints.map((c) => c.headHash),
        checkpoints.map((c) => c.recordCount),
        checkpoints.map((c) => c.createdAt),
        checkpoints.map((c) => c.keyId),
        checkpoints.map((c) => c.signature),
      ],
    );
  }
}

/** The people whose keys the entries are sealed under: only entries that hold personal fields need one. */
function subjectsOf(entries: readonly AuditEntry[]): string[] {
  return entries.flatMap((entry) => (entry.dataSubjectId !== null && holdsPersonalData(entry) ? [entry.dataSubjectId] : []));
}

function holdsPersonalData(entry: AuditEntry): boolean {
  return entry.subjectUserId !== null || entry.why.reason !== null || Object.keys(entry.personal).length > 0;
}

/** The domain refusing to turn an event into a record is permanent: the consumer dead-letters it. */
function permanent<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof AuditError || error instanceof CanonicalJsonError || error instanceof DataKeyError) {
      throw new PermanentEventError(`the audit log cannot record this event: ${error.message}`);
    }
    throw error;
  }
}
