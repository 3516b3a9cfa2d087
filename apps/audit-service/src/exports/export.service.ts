import { Inject, Injectable } from '@nestjs/common';
import type { RevealedAuditRecord } from '@tessera/audit-domain';
import { DATA_SOURCE, type Principal } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import type { DataSource } from 'typeorm';
import { CLOCK } from '../audit.tokens';
import { CHECKPOINT_COLUMNS, type CheckpointRow, toSignedCheckpoint } from '../chain/audit-record.rows';
import { ChainAppender } from '../chain/chain-appender.service';
import { auditServiceEvent, staffActor } from '../common/audit-service-event';
import type { DataSubjectExportQuery, ExportQuery } from '../common/query-schemas';
import { DataKeyStore } from '../data-keys/data-key.store';
import { RecordFilter, RecordReader } from '../records/record.reader';
import { toRecordView } from '../records/record.view';
import { csvLine } from './csv';

export const RECORD_CSV_COLUMNS = [
  'position',
  'occurredAt',
  'recordedAt',
  'eventType',
  'category',
  'outcome',
  'source',
  'actorKind',
  'actorId',
  'subjectRef',
  'subjectUserId',
  'correlationId',
  'causationId',
  'ticket',
  'reasonCode',
  'reason',
  'details',
  'personal',
  'eventId',
  'hash',
] as const;

/**
 * Compliance exports (issue 7.4), produced as a stream of text chunks so a year of records never
 * sits in memory.
 *
 * NDJSON lines are `{"record": …, "view": …}`: `record` is the stored record exactly as it was hashed,
 * `view` the same record with its personal fields opened for the reader. An export of a range of
 * positions starting at 1 or right after a checkpoint can be verified away from the service with the
 * checkpoints export and the public key (verifyChain in @tessera/audit-domain). CSV carries the view,
 * one column per field.
 */
@Injectable()
export class ExportService {
  constructor(
    @Inject(RecordReader) private readonly reader: RecordReader,
    @Inject(DataKeyStore) private readonly dataKeys: DataKeyStore,
    @Inject(ChainAppender) private readonly appender: ChainAppender,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The records of a period, or of a range of positions (contiguous: verifiable away from the service). */
  async records(query: ExportQuery): Promise<AsyncGenerator<string>> {
    const filter = new RecordFilter();
    if (query.fromPosition !== undefined && query.toPosition !== undefined) {
      filter.and(`position >= ${filter.param(query.fromPosition)}`).and(`position <= ${filter.param(query.toPosition)}`);
      return this.lines(filter, query.format);
    }
    const from = (query.from ?? new Date(0)).toISOString();
    const to = (query.to ?? new Date(0)).toISOString();
    // Bound the positions first (one pass over the occurredAt index), so each page is a short walk
    // along the primary key rather than a sort of every match in the period.
    const [bounds]: { low: string | null; high: string | null }[] = await this.reader.manager.query(
      `SELECT min(position)::text AS low, max(position)::text AS high FROM audit_records WHERE occurred_at >= $1 AND occurred_at < $2`,
      [from, to],
    );
    if (bounds.low === null || bounds.high === null) filter.none();
    else filter.and(`position >= ${filter.param(bounds.low)}`).and(`position <= ${filter.param(bounds.high)}`);
    filter.and(`occurred_at >= ${filter.param(from)}`).and(`occurred_at < ${filter.param(to)}`);
    return this.lines(filter, query.format);
  }

  /**
   * One person's records (GDPR Art. 15 access, Art. 20 portability): those about them and those they
   * did as staff. The export is itself recorded in the log (who pulled whose records), before any
   * record leaves.
   */
  async dataSubject(query: DataSubjectExportQuery, principal: Principal): Promise<AsyncGenerator<string>> {
    const ref = await this.dataKeys.keyIdOf(this.reader.manager, query.userId);
    const now = this.clock.now();
    await this.dataSource.transaction((manager) =>
      this.appender.append(manager, [auditServiceEvent('AuditDataSubjectExported', staffActor(principal), { subjectRef: ref, exportKind: `data-subject-${query.format}` }, now)]),
    );
    const filter = new RecordFilter();
    const asActor = `actor_id = ${filter.param(query.userId)}`;
    filter.and(ref === null ? asActor : `(subject_ref = ${filter.param(ref)} OR ${asActor})`);
    return this.lines(filter, query.format);
  }

  /** Every signed checkpoint, NDJSON, for verifying an export elsewhere. */
  async *checkpoints(): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const rows: CheckpointRow[] = await this.reader.manager.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE to_position > $1 ORDER BY to_position LIMIT 1000`, [after]);
      if (rows.length === 0) return;
      yield rows.map((row) => `${JSON.stringify(toSignedCheckpoint(row))}\n`).join('');
      after = Number(rows[rows.length - 1].to_position);
    }
  }

  private async *lines(filter: RecordFilter, format: 'ndjson' | 'csv'): AsyncGenerator<string> {
    if (format === 'csv') yield csvLine(RECORD_CSV_COLUMNS);
    for await (const page of this.reader.stream(filter)) {
      yield page.map((revealed) => (format === 'csv' ? csvRecord(revealed) : `${JSON.stringify({ record: revealed.record, view: toRecordView(revealed) })}\n`)).join('');
    }
  }
}

function csvRecord(revealed: RevealedAuditRecord): string {
  const view = toRecordView(revealed);
  return csvLine([
    view.position,
    view.occurredAt,
    view.recordedAt,
    view.eventType,
    view.category,
    view.outcome,
    view.source,
    view.actor.kind,
    view.actor.id,
    view.subject?.ref ?? null,
    view.subject?.userId ?? null,
    view.correlationId,
    view.causationId,
    view.ticket,
    view.reasonCode,
    view.reason,
    view.details,
    view.personal.fields,
    view.eventId,
    view.hash,
  ]);
}
