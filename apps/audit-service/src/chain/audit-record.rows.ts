import type { AuditRecord, SignedCheckpoint } from '@tessera/audit-domain';

/**
 * Rows of `audit_records` and `audit_checkpoints` to and from the domain's records. Every column is
 * part of the hashed record, so reading a row back must give the very record that was hashed:
 * timestamps are written with millisecond precision (storable.ts) and JSONB's key order does not
 * matter to canonical JSON.
 */
export interface AuditRecordRow {
  position: string;
  previous_hash: string;
  hash: string;
  event_id: string;
  source: string;
  event_type: string;
  event_version: number;
  category: string;
  outcome: string;
  actor_kind: string;
  actor_id: string | null;
  actor_is_subject: boolean;
  subject_ref: string | null;
  occurred_at: Date;
  recorded_at: Date;
  correlation_id: string;
  causation_id: string | null;
  ticket: string | null;
  reason_code: string | null;
  details: Record<string, unknown>;
  personal: Record<string, unknown> | null;
}

export const RECORD_COLUMNS =
  'position, previous_hash, hash, event_id, source, event_type, event_version, category, outcome, actor_kind, actor_id, actor_is_subject, subject_ref, occurred_at, recorded_at, correlation_id, causation_id, ticket, reason_code, details, personal';

/**
 * A row as the record it claims to be. No validation here: a tampered row must reach the verifier
 * as it is, which names what is wrong with it.
 */
export function toAuditRecord(row: AuditRecordRow): AuditRecord {
  return {
    position: Number(row.position),
    previousHash: row.previous_hash,
    hash: row.hash,
    eventId: row.event_id,
    source: row.source,
    eventType: row.event_type,
    eventVersion: row.event_version,
    category: row.category as AuditRecord['category'],
    outcome: row.outcome as AuditRecord['outcome'],
    actor: { kind: row.actor_kind as AuditRecord['actor']['kind'], id: row.actor_id },
    actorIsSubject: row.actor_is_subject,
    subjectRef: row.subject_ref,
    occurredAt: isoOf(row.occurred_at),
    recordedAt: isoOf(row.recorded_at),
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    ticket: row.ticket,
    reasonCode: row.reason_code,
    details: row.details as AuditRecord['details'],
    personal: row.personal as AuditRecord['personal'],
  };
}

function isoOf(value: Date): string {
  // A timestamp outside JavaScript's range (set by hand in SQL) reads as text that fails the hash.
  return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
}

/** Column arrays for one multi-row INSERT … SELECT FROM unnest(…). */
export function recordColumns(records: readonly AuditRecord[]): unknown[] {
  return [
    records.map((r) => r.position),
    records.map((r) => r.previousHash),
    records.map((r) => r.hash),
    records.map((r) => r.eventId),
    records.map((r) => r.source),
    records.map((r) => r.eventType),
    records.map((r) => r.eventVersion),
    records.map((r) => r.category),
    records.map((r) => r.outcome),
    records.map((r) => r.actor.kind),
    records.map((r) => r.actor.id),
    records.map((r) => r.actorIsSubject),
    records.map((r) => r.subjectRef),
    records.map((r) => r.occurredAt),
    records.map((r) => r.recordedAt),
    records.map((r) => r.correlationId),
    records.map((r) => r.causationId),
    records.map((r) => r.ticket),
    records.map((r) => r.reasonCode),
    records.map((r) => JSON.stringify(r.details)),
    records.map((r) => (r.personal === null ? null : JSON.stringify(r.personal))),
  ];
}

export const INSERT_RECORDS = `
  INSERT INTO audit_records (${RECORD_COLUMNS})
  SELECT * FROM unnest(
    $1::bigint[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[],
    $11::text[], $12::bool[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::text[], $17::text[], $18::text[], $19::text[],
    $20::jsonb[], $21::jsonb[])`;

export interface CheckpointRow {
  to_position: string;
  from_position: string;
  head_hash: string;
  record_count: string;
  created_at: Date;
  key_id: string;
  signature: string;
}

export const CHECKPOINT_COLUMNS = 'to_position, from_position, head_hash, record_count, created_at, key_id, signature';

export function toSignedCheckpoint(row: CheckpointRow): SignedCheckpoint {
  return {
    fromPosition: Number(row.from_position),
    toPosition: Number(row.to_position),
    headHash: row.head_hash,
    recordCount: Number(row.record_count),
    createdAt: isoOf(row.created_at),
    keyId: row.key_id,
    signature: row.signature,
  };
}
