import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { type Erased, type SecurityHistoryItem, isErased } from '@tessera/audit-domain';
import { CurrentPrincipal, type Principal, RequireRoles, ZodPipe, assertSelfOrRoles } from '@tessera/platform';
import { z } from 'zod';
import { historyQuerySchema, personIdSchema, recordsQuerySchema } from '../common/query-schemas';
import { SecurityHistoryService } from '../history/security-history.service';
import type { AuditRecordView } from '../records/record.view';
import { RecordsService } from '../records/records.service';
import { ChainVerificationService, type VerificationReport } from '../verify/chain-verification.service';

/**
 * proto3 scalars have no presence: "" and 0 mean "not set". Field names arrive in snake_case
 * (keepCase); they are renamed to the REST query's names so one schema validates both transports.
 */
function fromProto(names: Readonly<Record<string, string>>) {
  return (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field === '' || field === 0 || field === null || field === undefined) continue;
      out[names[key] ?? key] = field;
    }
    return out;
  };
}

const listRecordsSchema = z.preprocess(
  fromProto({ user_id: 'userId', actor_id: 'actorId', event_type: 'eventType', correlation_id: 'correlationId' }),
  recordsQuerySchema,
);
const historySchema = z.preprocess(fromProto({ user_id: 'userId' }), historyQuerySchema.extend({ userId: personIdSchema }));
const verifySchema = z.preprocess(fromProto({ include_sink: 'includeSink' }), z.strictObject({ includeSink: z.boolean().default(false) }));

function personal(value: string | Erased | null): { value: string; erased: boolean } | null {
  if (value === null) return null;
  return isErased(value) ? { value: '', erased: true } : { value, erased: false };
}

function toProtoRecord(view: AuditRecordView) {
  return {
    position: String(view.position),
    event_id: view.eventId,
    source: view.source,
    event_type: view.eventType,
    event_version: view.eventVersion,
    category: view.category,
    outcome: view.outcome,
    occurred_at: view.occurredAt,
    recorded_at: view.recordedAt,
    actor_kind: view.actor.kind,
    actor_id: personal(view.actor.id),
    subject_ref: view.subject?.ref ?? '',
    subject_user_id: personal(view.subject?.userId ?? null),
    correlation_id: view.correlationId,
    causation_id: view.causationId ?? '',
    ticket: view.ticket ?? '',
    reason_code: view.reasonCode ?? '',
    reason: personal(view.reason),
    details_json: JSON.stringify(view.details),
    personal_status: view.personal.status,
    personal_fields_json: JSON.stringify(view.personal.fields),
    hash: view.hash,
    previous_hash: view.previousHash,
  };
}

function toProtoHistoryItem(item: SecurityHistoryItem) {
  return {
    event_id: item.eventId,
    occurred_at: item.occurredAt,
    category: item.category,
    outcome: item.outcome,
    title: item.title,
    by: item.by,
    device_name: item.deviceName ?? '',
  };
}

function toProtoVerification(report: VerificationReport) {
  const common = { head_position: String(report.headPosition), retention_deleted_through: String(report.retentionDeletedThrough) };
  if (!report.ok) {
    return { ok: false, failure: { position: String(report.failure.position), reason: report.failure.reason, message: report.failure.message }, records_checked: String(report.recordsChecked), ...common };
  }
  return {
    ok: true,
    record_count: String(report.recordCount),
    first_position: String(report.firstPosition ?? 0),
    last_position: String(report.lastPosition ?? 0),
    head_hash: report.headHash,
    checkpoints_verified: String(report.checkpointsVerified),
    last_checkpoint_position: String(report.lastCheckpointPosition ?? 0),
    records_after_last_checkpoint: String(report.recordsAfterLastCheckpoint),
    ...common,
  };
}

/** The gRPC face of the same services the REST controllers use (libs/shared/contracts/proto/audit.proto). */
@Controller()
export class AuditGrpcController {
  constructor(
    @Inject(RecordsService) private readonly records: RecordsService,
    @Inject(SecurityHistoryService) private readonly history: SecurityHistoryService,
    @Inject(ChainVerificationService) private readonly verification: ChainVerificationService,
  ) {}

  @GrpcMethod('AuditService', 'ListRecords')
  @RequireRoles('auditor')
  async listRecords(@Payload(new ZodPipe(listRecordsSchema)) query: z.infer<typeof recordsQuerySchema>) {
    const page = await this.records.list(query);
    return { records: page.records.map(toProtoRecord), next_cursor: page.nextCursor ?? '' };
  }

  @GrpcMethod('AuditService', 'GetSecurityHistory')
  async getSecurityHistory(@Payload(new ZodPipe(historySchema)) request: z.infer<typeof historySchema>, @CurrentPrincipal() principal: Principal) {
    assertSelfOrRoles(principal, request.userId);
    const page = await this.history.history(request.userId, request);
    return { items: page.items.map(toProtoHistoryItem), next_cursor: page.nextCursor ?? '' };
  }

  @GrpcMethod('AuditService', 'VerifyChain')
  @RequireRoles('auditor', 'admin')
  async verifyChain(@Payload(new ZodPipe(verifySchema)) request: z.infer<typeof verifySchema>) {
    return toProtoVerification(await this.verification.verify({ includeSink: request.includeSink }));
  }
}
