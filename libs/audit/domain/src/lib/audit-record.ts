import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { actorSchema, type Actor } from '@tessera/contracts';
import { type AuditDetails, type AuditEntry } from './audit-entry';
import { AuditError } from './audit-error';
import { AUDIT_CATEGORIES, AUDIT_OUTCOMES, type AuditCategory, type AuditOutcome } from './catalogue';
import { type DataKey, type RandomBytes, type SealedPersonal, sealPersonal } from './personal-data';

/** The actor as stored: `id` is `null` when the actor is the data subject, whose id is sealed. */
export interface AuditActor {
  readonly kind: Actor['kind'];
  readonly id: string | null;
}

/**
 * An audit entry with its personal fields sealed: everything a record holds except its place in
 * the chain. This is the data that is hashed, so it holds only JSON values (see canonical-json.ts)
 * and uses `null`, never `undefined`, for "absent".
 */
export interface SealedAuditEntry {
  readonly eventId: string;
  readonly source: string;
  readonly eventType: string;
  readonly eventVersion: number;
  readonly category: AuditCategory;
  readonly outcome: AuditOutcome;
  readonly actor: AuditActor;
  /** True when the actor is the subject (a user acting on their own account). */
  readonly actorIsSubject: boolean;
  /**
   * The subject's pseudonym: the id of their data key, random and not derived from the user id.
   * Lets the service find a user's records (security history, per-user reports) through the key
   * store's user → key id row, and stops linking them to anyone once that row is erased.
   */
  readonly subjectRef: string | null;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  /** A ticket reference stays in clear; the free-text reason is sealed. */
  readonly ticket: string | null;
  /** A machine-readable reason (`lost`, `admin_unlock`), in clear. */
  readonly reasonCode: string | null;
  readonly details: AuditDetails;
  /** Subject id, actor id (when the subject acted), reason and the allow-listed personal fields. */
  readonly personal: SealedPersonal | null;
}

/** A record in the chain: `hash = SHA-256(previousHash || canonical(record without hash, previousHash))`. */
export interface AuditRecord extends SealedAuditEntry {
  /** 1-based; position 0 is the genesis value. */
  readonly position: number;
  /** Lowercase hex SHA-256 of the previous record, or the genesis hash at position 1. */
  readonly previousHash: string;
  readonly hash: string;
}

/** Names of the personal fields the sealing adds beside the category's allow-listed ones. */
export const SUBJECT_USER_ID_FIELD = 'subjectUserId';
export const ACTOR_ID_FIELD = 'actorId';
export const REASON_FIELD = 'reason';

/**
 * Seals an entry's personal fields under the data subject's key. The key must be the one the key
 * store holds for `entry.dataSubjectId`; an entry with no personal data needs none.
 */
export function sealAuditEntry(entry: AuditEntry, dataKey: DataKey | null, random: RandomBytes = randomBytes): SealedAuditEntry {
  const actorIsSubject = entry.actor.kind === 'user' && entry.subjectUserId !== null && entry.actor.id === entry.subjectUserId;
  const fields: Record<string, string> = { ...entry.personal };
  if (entry.subjectUserId !== null) fields[SUBJECT_USER_ID_FIELD] = entry.subjectUserId;
  if (actorIsSubject) fields[ACTOR_ID_FIELD] = entry.actor.id;
  if (entry.why.reason !== null) fields[REASON_FIELD] = entry.why.reason;

  let personal: SealedPersonal | null = null;
  if (Object.keys(fields).length > 0) {
    if (dataKey === null) throw new AuditError('data_key_required', 'this entry carries personal data: pass the data key of its data subject');
    personal = sealPersonal(fields, dataKey, entry.eventId, random);
  }
  return {
    eventId: entry.eventId,
    source: entry.source,
    eventType: entry.eventType,
    eventVersion: entry.eventVersion,
    category: entry.category,
    outcome: entry.outcome,
    // Staff, service and system ids stay in clear: accountability for privileged actions is the
    // point of the log. A user's own id is personal data of the subject and is sealed.
    actor: { kind: entry.actor.kind, id: actorIsSubject ? null : entry.actor.id },
    actorIsSubject,
    subjectRef: entry.subjectUserId !== null && dataKey !== null ? dataKey.keyId : null,
    occurredAt: entry.occurredAt,
    recordedAt: entry.recordedAt,
    correlationId: entry.correlationId,
    causationId: entry.causationId,
    ticket: entry.why.ticket,
    reasonCode: entry.why.reasonCode,
    details: entry.details,
    personal,
  };
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');
const detailValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);

export const sealedPersonalSchema = z
  .object({
    v: z.literal(1),
    alg: z.literal('A256GCM'),
    keyId: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/),
    fields: z.array(z.string().min(1).max(100)).max(50),
    nonce: base64url,
    ciphertext: base64url,
    tag: base64url,
  })
  .strict();

/**
 * The stored shape, for adapters reading rows or export files back. The verifier does not use it
 * per record (a million zod parses would dominate verification time); it checks the chain fields
 * it relies on and lets the hash cover the rest.
 */
export const auditRecordSchema = z
  .object({
    position: z.number().int().min(1),
    previousHash: hex64,
    hash: hex64,
    eventId: z.string().min(1).max(200),
    source: z.string().min(1).max(200),
    eventType: z.string().min(1).max(200),
    eventVersion: z.number().int().min(1),
    category: z.enum(AUDIT_CATEGORIES),
    outcome: z.enum(AUDIT_OUTCOMES),
    actor: z.object({ kind: actorSchema.shape.kind, id: z.string().min(1).max(200).nullable() }).strict(),
    actorIsSubject: z.boolean(),
    subjectRef: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/).nullable(),
    occurredAt: z.string(),
    recordedAt: z.string(),
    correlationId: z.string().min(1).max(200),
    causationId: z.string().min(1).max(200).nullable(),
    ticket: z.string().max(100).nullable(),
    reasonCode: z.string().max(64).nullable(),
    details: z.record(z.string(), detailValueSchema),
    personal: sealedPersonalSchema.nullable(),
  })
  .strict();

export function parseAuditRecord(value: unknown): AuditRecord {
  return auditRecordSchema.parse(value);
}
