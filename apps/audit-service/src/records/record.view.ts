import {
  ACTOR_ID_FIELD,
  type AuditRecord,
  type Erased,
  REASON_FIELD,
  type RevealedAuditRecord,
  SUBJECT_USER_ID_FIELD,
  actorOf,
  personalValue,
  reasonOf,
  subjectUserIdOf,
} from '@tessera/audit-domain';
import { z } from 'zod';

/**
 * A record as an auditor sees it (issue 7.1: who, what, on whom, when, why, outcome, correlation):
 * the stored fields, the personal ones opened with the subject's key (or `{ "erased": true }` once
 * it is destroyed), and the chain links so a record can be matched with verification results.
 */
export interface AuditRecordView {
  readonly position: number;
  readonly eventId: string;
  readonly source: string;
  readonly eventType: string;
  readonly eventVersion: number;
  readonly category: string;
  readonly outcome: string;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly actor: { readonly kind: string; readonly id: string | Erased | null };
  readonly subject: { readonly ref: string; readonly userId: string | Erased | null } | null;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly ticket: string | null;
  readonly reasonCode: string | null;
  readonly reason: string | Erased | null;
  readonly details: AuditRecord['details'];
  /** The other sealed fields (device names, client addresses, …) and whether they can be read. */
  readonly personal: { readonly status: 'none' | 'available' | 'erased' | 'unreadable'; readonly fields: Readonly<Record<string, string | Erased>> };
  readonly hash: string;
  readonly previousHash: string;
}

const SHOWN_APART = new Set([SUBJECT_USER_ID_FIELD, ACTOR_ID_FIELD, REASON_FIELD]);

export function toRecordView(revealed: RevealedAuditRecord): AuditRecordView {
  const { record, personal } = revealed;
  const fields: Record<string, string | Erased> = {};
  const names = personal.status === 'available' ? Object.keys(personal.fields) : personal.status === 'erased' ? personal.fieldNames : [];
  for (const name of [...names].sort()) {
    if (SHOWN_APART.has(name)) continue;
    const value = personalValue(personal, name);
    if (value !== null) fields[name] = value;
  }
  return {
    position: record.position,
    eventId: record.eventId,
    source: record.source,
    eventType: record.eventType,
    eventVersion: record.eventVersion,
    category: record.category,
    outcome: record.outcome,
    occurredAt: record.occurredAt,
    recordedAt: record.recordedAt,
    actor: actorOf(revealed),
    subject: record.subjectRef === null ? null : { ref: record.subjectRef, userId: subjectUserIdOf(revealed) },
    correlationId: record.correlationId,
    causationId: record.causationId,
    ticket: record.ticket,
    reasonCode: record.reasonCode,
    reason: reasonOf(revealed),
    details: record.details,
    personal: { status: personal.status, fields },
    hash: record.hash,
    previousHash: record.previousHash,
  };
}

// OpenAPI documentation of the view (responses are built by the code above, not parsed).
const erasable = z.union([z.string(), z.strictObject({ erased: z.literal(true) })]);
export const recordViewSchema = z.object({
  position: z.number().int(),
  eventId: z.string(),
  source: z.string(),
  eventType: z.string(),
  eventVersion: z.number().int(),
  category: z.string(),
  outcome: z.string(),
  occurredAt: z.string(),
  recordedAt: z.string(),
  actor: z.object({ kind: z.string(), id: erasable.nullable() }),
  subject: z.object({ ref: z.string(), userId: erasable.nullable() }).nullable(),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  ticket: z.string().nullable(),
  reasonCode: z.string().nullable(),
  reason: erasable.nullable(),
  details: z.record(z.string(), z.unknown()),
  personal: z.object({ status: z.enum(['none', 'available', 'erased', 'unreadable']), fields: z.record(z.string(), erasable) }),
  hash: z.string(),
  previousHash: z.string(),
});
export const recordPageSchema = z.object({ records: z.array(recordViewSchema), nextCursor: z.string().nullable() });
