import { Inject, Injectable } from '@nestjs/common';
import { type RevealedAuditRecord, revealRecord } from '@tessera/audit-domain';
import { DATA_SOURCE } from '@tessera/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { type AuditRecordRow, RECORD_COLUMNS, toAuditRecord } from '../chain/audit-record.rows';
import { type SortOrder, decodeCursor, encodeCursor } from '../common/cursor';
import { DataKeyStore } from '../data-keys/data-key.store';

/** Conditions on `audit_records`, built with numbered parameters. */
export class RecordFilter {
  readonly conditions: string[] = [];
  readonly params: unknown[] = [];

  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  and(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  /** Matches nothing (e.g. a user with no key has no records). */
  none(): this {
    return this.and('false');
  }

  copy(): RecordFilter {
    const copy = new RecordFilter();
    copy.conditions.push(...this.conditions);
    copy.params.push(...this.params);
    return copy;
  }

  where(): string {
    return this.conditions.length === 0 ? '' : `WHERE ${this.conditions.join(' AND ')}`;
  }
}

export interface RecordPage {
  readonly records: RevealedAuditRecord[];
  readonly nextCursor: string | null;
}

/**
 * Reads records with keyset pagination on position and reveals their personal fields with the
 * subjects' keys, one key-store read per page.
 */
@Injectable()
export class RecordReader {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(DataKeyStore) private readonly dataKeys: DataKeyStore,
  ) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async page(filter: RecordFilter, options: { order: SortOrder; limit: number; cursor?: string }): Promise<RecordPage> {
    const paged = filter.copy();
    if (options.cursor !== undefined) {
      const position = decodeCursor(options.cursor, options.order);
      paged.and(`position ${options.order === 'asc' ? '>' : '<'} ${paged.param(position)}`);
    }
    const rows: AuditRecordRow[] = await this.manager.query(
      `SELECT ${RECORD_COLUMNS} FROM audit_records ${paged.where()} ORDER BY position ${options.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${options.limit + 1}`,
      paged.params,
    );
    const more = rows.length > options.limit;
    const page = more ? rows.slice(0, options.limit) : rows;
    const records = await this.reveal(page);
    const last = records[records.length - 1]?.record.position;
    return { records, nextCursor: more && last !== undefined ? encodeCursor(options.order, last) : null };
  }

  /** Every matching record in position order, a page at a time (exports, reports). */
  async *stream(filter: RecordFilter, pageSize = 2_000): AsyncGenerator<RevealedAuditRecord[]> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.page(filter, { order: 'asc', limit: pageSize, cursor });
      if (page.records.length > 0) yield page.records;
      if (page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }

  async reveal(rows: readonly AuditRecordRow[]): Promise<RevealedAuditRecord[]> {
    const records = rows.map(toAuditRecord);
    const keyIds = records.flatMap((record) => (record.personal !== null && typeof record.personal.keyId === 'string' ? [record.personal.keyId] : []));
    const lookup = await this.dataKeys.lookup(this.manager, keyIds);
    return records.map((record) => revealRecord(record, lookup));
  }
}
