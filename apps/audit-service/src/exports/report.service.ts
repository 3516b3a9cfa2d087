import { Inject, Injectable } from '@nestjs/common';
import { type RevealedAuditRecord, adminActionsReport, factorChangesReport, failedVerificationSpikes, recoveryReport } from '@tessera/audit-domain';
import { ApiError } from '@tessera/platform';
import type { ReportKind, ReportQuery } from '../common/query-schemas';
import { RecordFilter, RecordReader } from '../records/record.reader';

/** Reports fold over records in memory; past this many records in a period, ask for a shorter one. */
// Bounded so one report stays within a service instance's memory (each revealed record is ~1-2 KB).
export const REPORT_RECORD_LIMIT = 50_000;

export interface Report {
  readonly kind: ReportKind;
  readonly from: string;
  readonly to: string;
  readonly recordsRead: number;
  readonly rows: readonly object[];
}

/**
 * Compliance reports (issue 7.4) as the domain's pure folds over the records of a period, read with
 * a SQL filter that already narrows them to what the report looks at:
 * - recoveries with their approvers, evidence and durations: every record of each recovery that
 *   has a record in the period (so a recovery that started before the period is complete);
 * - administrative actions: the admin category and every helpdesk, security-officer or admin action;
 * - factor changes: the factor-change category;
 * - spikes of failed verifications per subject and client address in a sliding window.
 */
@Injectable()
export class ReportService {
  constructor(@Inject(RecordReader) private readonly reader: RecordReader) {}

  async report(kind: ReportKind, query: ReportQuery): Promise<Report> {
    const filter = new RecordFilter();
    const inPeriod = `occurred_at >= ${filter.param(query.from.toISOString())} AND occurred_at < ${filter.param(query.to.toISOString())}`;
    switch (kind) {
      case 'recoveries': {
        const ids: { id: string }[] = await this.reader.manager.query(
          `SELECT DISTINCT details->>'recoveryId' AS id FROM audit_records WHERE details ? 'recoveryId' AND occurred_at >= $1 AND occurred_at < $2 LIMIT ${REPORT_RECORD_LIMIT + 1}`,
          [query.from.toISOString(), query.to.toISOString()],
        );
        if (ids.length > REPORT_RECORD_LIMIT) throw tooLarge();
        const byRecovery = new RecordFilter();
        byRecovery.and(`details ? 'recoveryId'`).and(`details->>'recoveryId' = ANY(${byRecovery.param(ids.map((row) => row.id))}::text[])`);
        const records = await this.collect(byRecovery);
        return this.result(kind, query, records.length, recoveryReport(records));
      }
      case 'admin-actions':
        filter.and(inPeriod).and(`(category = 'admin' OR actor_kind IN ('admin', 'helpdesk', 'security-officer'))`);
        return this.fold(kind, query, filter, adminActionsReport);
      case 'factor-changes':
        filter.and(inPeriod).and(`category = 'factor-change'`);
        return this.fold(kind, query, filter, factorChangesReport);
      case 'failed-verification-spikes':
        filter.and(inPeriod).and(`category = 'verification'`).and(`outcome = 'failure'`);
        return this.fold(kind, query, filter, (records) => failedVerificationSpikes(records, { windowMs: query.windowMinutes * 60_000, threshold: query.threshold }));
    }
  }

  private async fold(kind: ReportKind, query: ReportQuery, filter: RecordFilter, report: (records: RevealedAuditRecord[]) => readonly object[]): Promise<Report> {
    const records = await this.collect(filter);
    return this.result(kind, query, records.length, report(records));
  }

  private async collect(filter: RecordFilter): Promise<RevealedAuditRecord[]> {
    const records: RevealedAuditRecord[] = [];
    for await (const page of this.reader.stream(filter, 5_000)) {
      records.push(...page);
      if (records.length > REPORT_RECORD_LIMIT) throw tooLarge();
    }
    return records;
  }

  private result(kind: ReportKind, query: ReportQuery, recordsRead: number, rows: readonly object[]): Report {
    return { kind, from: query.from.toISOString(), to: query.to.toISOString(), recordsRead, rows };
  }
}

function tooLarge(): ApiError {
  return new ApiError(422, 'report_too_large', `The period holds more than ${REPORT_RECORD_LIMIT.toLocaleString('en')} records for this report; ask for a shorter period.`);
}
