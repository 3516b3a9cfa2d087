import { Inject, Injectable } from '@nestjs/common';
import type { RecordsQuery } from '../common/query-schemas';
import { DataKeyStore } from '../data-keys/data-key.store';
import { RecordFilter, RecordReader } from './record.reader';
import { type AuditRecordView, toRecordView } from './record.view';

/** The auditor's query over the log (issue 7.3), shared by REST and gRPC. */
@Injectable()
export class RecordsService {
  constructor(
    @Inject(RecordReader) private readonly reader: RecordReader,
    @Inject(DataKeyStore) private readonly dataKeys: DataKeyStore,
  ) {}

  async list(query: RecordsQuery): Promise<{ records: AuditRecordView[]; nextCursor: string | null }> {
    const filter = await this.filterFor(query);
    const page = await this.reader.page(filter, { order: query.order, limit: query.limit, cursor: query.cursor });
    return { records: page.records.map(toRecordView), nextCursor: page.nextCursor };
  }

  /**
   * A user is found through the key store (user id → their key id, the records' `subjectRef`);
   * once they are erased nothing links them to their records any more. As an actor, a user acting
   * on their own account is sealed too (`actorIsSubject`); staff and services are in clear.
   */
  async filterFor(query: Omit<RecordsQuery, 'order' | 'limit' | 'cursor'>): Promise<RecordFilter> {
    const filter = new RecordFilter();
    const manager = this.reader.manager;
    if (query.userId !== undefined) {
      const ref = await this.dataKeys.keyIdOf(manager, query.userId);
      if (ref === null) filter.none();
      else filter.and(`subject_ref = ${filter.param(ref)}`);
    }
    if (query.actorId !== undefined) {
      const ref = await this.dataKeys.keyIdOf(manager, query.actorId);
      const inClear = `actor_id = ${filter.param(query.actorId)}`;
      filter.and(ref === null ? inClear : `(${inClear} OR (actor_is_subject AND subject_ref = ${filter.param(ref)}))`);
    }
    if (query.eventType !== undefined) filter.and(`event_type = ${filter.param(query.eventType)}`);
    if (query.correlationId !== undefined) filter.and(`correlation_id = ${filter.param(query.correlationId)}`);
    if (query.category !== undefined) filter.and(`category = ${filter.param(query.category)}`);
    if (query.outcome !== undefined) filter.and(`outcome = ${filter.param(query.outcome)}`);
    if (query.from !== undefined) filter.and(`occurred_at >= ${filter.param(query.from.toISOString())}`);
    if (query.to !== undefined) filter.and(`occurred_at < ${filter.param(query.to.toISOString())}`);
    return filter;
  }
}
