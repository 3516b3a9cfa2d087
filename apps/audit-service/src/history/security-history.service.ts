import { Inject, Injectable } from '@nestjs/common';
import { AUDIT_CATALOGUE, type SecurityHistoryItem, toSecurityHistoryItem } from '@tessera/audit-domain';
import type { HistoryQuery } from '../common/query-schemas';
import { DataKeyStore } from '../data-keys/data-key.store';
import { RecordFilter, RecordReader } from '../records/record.reader';

/** Event types the subject may see (those the catalogue gives a history title). */
export const HISTORY_EVENT_TYPES: readonly string[] = Object.entries(AUDIT_CATALOGUE)
  .filter(([, descriptor]) => descriptor.historyTitle !== undefined)
  .map(([type]) => type)
  .sort();

/**
 * A user's own security history (issue 7.3), newest first: only the fields of
 * SECURITY_HISTORY_FIELDS ever leave (no staff ids, addresses, reasons or tickets).
 */
@Injectable()
export class SecurityHistoryService {
  constructor(
    @Inject(RecordReader) private readonly reader: RecordReader,
    @Inject(DataKeyStore) private readonly dataKeys: DataKeyStore,
  ) {}

  async history(userId: string, query: HistoryQuery): Promise<{ items: SecurityHistoryItem[]; nextCursor: string | null }> {
    const ref = await this.dataKeys.keyIdOf(this.reader.manager, userId);
    if (ref === null) return { items: [], nextCursor: null };
    const filter = new RecordFilter();
    filter.and(`subject_ref = ${filter.param(ref)}`).and(`event_type = ANY(${filter.param(HISTORY_EVENT_TYPES)}::text[])`);
    const page = await this.reader.page(filter, { order: 'desc', limit: query.limit, cursor: query.cursor });
    // A record the title hides (a device used, unless it was reported lost) takes its slot in the
    // page but shows nothing; the cursor still moves past it.
    const items = page.records.map((revealed) => toSecurityHistoryItem(revealed)).filter((item): item is SecurityHistoryItem => item !== null);
    return { items, nextCursor: page.nextCursor };
  }
}
