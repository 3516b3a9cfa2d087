import { type Actor, type EventEnvelope } from '@tessera/contracts';
import { AuditError } from './audit-error';
import { type AuditCatalogue, type AuditCategory, type AuditOutcome, AUDIT_CATALOGUE, DATA_ALLOW_LIST, describeEvent, outcomeOf } from './catalogue';
import { type PersonalFields } from './personal-data';

/** A value an audit record keeps in clear: scalars and short lists of ids. */
export type AuditDetailValue = string | number | boolean | null | readonly string[];
export type AuditDetails = Readonly<Record<string, AuditDetailValue>>;

/**
 * The audit view of one event, before its personal fields are sealed. It exists only in memory
 * between consuming an event and appending its record; it is never stored or logged as is.
 */
export interface AuditEntry {
  readonly eventId: string;
  /** The topic the event came from: event type names are not unique across services by contract. */
  readonly source: string;
  readonly eventType: string;
  readonly eventVersion: number;
  readonly category: AuditCategory;
  readonly outcome: AuditOutcome;
  readonly actor: Actor;
  /** The user the event is about (`data.userId`), if any. */
  readonly subjectUserId: string | null;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  /**
   * Free-text `reason` (sealed later), a machine-readable reason code (clear) and a ticket
   * reference (clear), each where the event carries one.
   */
  readonly why: { readonly reason: string | null; readonly reasonCode: string | null; readonly ticket: string | null };
  readonly details: AuditDetails;
  /** Allow-listed personal fields other than the subject, actor and reason (sealed later). */
  readonly personal: PersonalFields;
  /**
   * Whose data key seals the personal fields: the subject, or the acting person when the event is
   * about no user (an administrator changing a policy). `null` for a service or the system acting
   * on nobody, in which case no personal field is kept at all.
   */
  readonly dataSubjectId: string | null;
}

export interface AuditEntryContext {
  /** The `tessera.*` topic the envelope was read from. */
  readonly source: string;
  /** When the audit service recorded it (ISO 8601 UTC), from the injected clock. */
  readonly recordedAt: string;
}

// Limits keep one odd event from bloating the log; they are far above what any contract sends.
const MAX_DETAIL_TEXT = 200;
const MAX_DETAIL_ITEMS = 100;
const MAX_PERSONAL_TEXT = 500;
const MAX_REASON_TEXT = 1000;
const TICKET_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,99}$/;
const REASON_CODE_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
const DEFAULT_TICKET_PATHS = ['ticket', 'ticketReference'];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const PERSON_KINDS: ReadonlySet<Actor['kind']> = new Set(['user', 'helpdesk', 'security-officer', 'admin', 'auditor']);

/**
 * Maps a validated envelope (see `envelopeSchema`) to an audit entry: who, what, on whom, when,
 * why, outcome, and only the `data` fields the category's allow-list names. `streamId` is not
 * kept: it may embed a user id, and the event id and correlation id already locate the event.
 */
export function toAuditEntry(envelope: EventEnvelope, context: AuditEntryContext, catalogue: AuditCatalogue = AUDIT_CATALOGUE): AuditEntry {
  if (!/^tessera\.[a-z0-9.-]+$/.test(context.source)) throw new AuditError('invalid_source', 'the audit log records events from tessera.* topics only');
  if (!ISO_UTC.test(context.recordedAt)) throw new AuditError('invalid_recorded_at', 'recordedAt must be an ISO 8601 UTC timestamp');

  const descriptor = describeEvent(envelope.type, catalogue);
  const allowList = DATA_ALLOW_LIST[descriptor.category];
  const data = envelope.data;
  const subjectUserId = personalText(data['userId'], MAX_DETAIL_TEXT);
  const dataSubjectId = subjectUserId ?? (PERSON_KINDS.has(envelope.actor.kind) ? envelope.actor.id : null);
  const known = descriptor.category !== 'other';

  const details: Record<string, AuditDetailValue> = {};
  for (const path of allowList.details) {
    const value = detailValue(at(data, path));
    if (value !== undefined) details[path] = value;
  }

  // Personal fields need someone's key to be sealed under; with no data subject they are not kept.
  const personal: Record<string, string> = {};
  if (dataSubjectId !== null) {
    for (const path of allowList.personal) {
      const value = personalText(at(data, path), MAX_PERSONAL_TEXT);
      if (value !== null) personal[path] = value;
    }
  }

  const rawReason = known ? data['reason'] : undefined;
  const reasonCode = descriptor.reasonKind === 'code' && typeof rawReason === 'string' && REASON_CODE_PATTERN.test(rawReason) ? rawReason : null;
  const reason = descriptor.reasonKind !== 'code' && dataSubjectId !== null ? truncate(personalText(rawReason, Number.POSITIVE_INFINITY), MAX_REASON_TEXT) : null;
  const ticketPaths = descriptor.ticketPath === undefined ? DEFAULT_TICKET_PATHS : [descriptor.ticketPath, ...DEFAULT_TICKET_PATHS];
  const ticket = known ? (ticketPaths.map((path) => at(data, path)).find((value): value is string => typeof value === 'string' && TICKET_PATTERN.test(value)) ?? null) : null;

  return {
    eventId: envelope.eventId,
    source: context.source,
    eventType: envelope.type,
    eventVersion: envelope.version,
    category: descriptor.category,
    outcome: outcomeOf(descriptor, data),
    actor: { kind: envelope.actor.kind, id: envelope.actor.id },
    subjectUserId,
    occurredAt: envelope.occurredAt,
    recordedAt: context.recordedAt,
    correlationId: envelope.correlationId,
    causationId: envelope.causationId,
    why: { reason, reasonCode, ticket },
    details,
    personal,
    dataSubjectId,
  };
}

/** The value at a dotted path (`verifier.kind`), only through plain nested objects. */
function at(data: Readonly<Record<string, unknown>>, path: string): unknown {
  let current: unknown = data;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** `undefined` means "drop": the value is absent or not something an audit record keeps in clear. */
function detailValue(value: unknown): AuditDetailValue | undefined {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return value.length <= MAX_DETAIL_TEXT && value.isWellFormed() ? value : undefined;
  if (Array.isArray(value)) {
    if (value.length > MAX_DETAIL_ITEMS) return undefined;
    return value.every((item) => typeof item === 'string' && item.length <= MAX_DETAIL_TEXT && item.isWellFormed()) ? [...(value as string[])] : undefined;
  }
  return undefined;
}

function personalText(value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) return null;
  // A lone surrogate has no canonical JSON form; replacing it keeps the rest of a free-text reason.
  return value.toWellFormed();
}

function truncate(value: string | null, max: number): string | null {
  if (value === null || value.length <= max) return value;
  return `${value.slice(0, max - 1).toWellFormed()}…`;
}
