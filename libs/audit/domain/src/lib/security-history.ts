import { type AuditActor } from './audit-record';
import { type AuditCatalogue, type AuditCategory, type AuditOutcome, AUDIT_CATALOGUE, describeEvent, type HistoryActor } from './catalogue';
import { personalValue } from './personal-data';
import { type RevealedAuditRecord } from './reveal';

/**
 * The user's own security history (`/v1/users/{userId}/security-history`): what happened to their
 * account, in words, so they can spot what they did not do (NIST SP 800-63B-4 §4.6 asks that users
 * be told of binding and recovery events; this is the record they can come back to).
 *
 * Only the fields below ever leave this function. Not shown, on purpose: staff ids (a user told
 * "approved by j.smith" becomes a social-engineering target for that person), addresses and user
 * agents (a stolen session would see where the real user signs in from), reasons and tickets
 * (internal notes), and every detail id.
 */
export const SECURITY_HISTORY_FIELDS = ['eventId', 'occurredAt', 'category', 'outcome', 'title', 'by', 'deviceName'] as const;

export interface SecurityHistoryItem {
  /** Opaque; lets the user point at an entry when they report "this wasn't me". */
  readonly eventId: string;
  readonly occurredAt: string;
  readonly category: AuditCategory;
  readonly outcome: AuditOutcome;
  /** E.g. "New security key added", "Recovery requested by helpdesk". */
  readonly title: string;
  readonly by: HistoryActor;
  /** The name the user gave their own device or key, when the event carries one. */
  readonly deviceName?: string;
}

const BY_KIND: Readonly<Record<AuditActor['kind'], HistoryActor>> = {
  user: 'another-user',
  helpdesk: 'helpdesk',
  'security-officer': 'security-team',
  auditor: 'security-team',
  admin: 'administrator',
  service: 'tessera',
  system: 'tessera',
};

/** `null` for records the subject does not see (no subject, or an event type with no history title). */
export function toSecurityHistoryItem(revealed: RevealedAuditRecord, catalogue: AuditCatalogue = AUDIT_CATALOGUE): SecurityHistoryItem | null {
  const { record } = revealed;
  const title = describeEvent(record.eventType, catalogue).historyTitle;
  if (record.subjectRef === null || title === undefined) return null;
  const by: HistoryActor = record.actorIsSubject ? 'you' : BY_KIND[record.actor.kind];
  const text = title({ by, details: record.details, reasonCode: record.reasonCode });
  if (text === null) return null;
  // The name the user gave their device or key: theirs to see, sealed like any personal field.
  const deviceName = personalValue(revealed.personal, 'name');
  const item: SecurityHistoryItem = {
    eventId: record.eventId,
    occurredAt: record.occurredAt,
    category: record.category,
    outcome: record.outcome,
    title: text,
    by,
    ...(typeof deviceName === 'string' ? { deviceName } : {}),
  };
  return pickAllowed(item);
}

/** The subject's history, newest first. */
export function securityHistory(records: Iterable<RevealedAuditRecord>, catalogue: AuditCatalogue = AUDIT_CATALOGUE): SecurityHistoryItem[] {
  const items: { item: SecurityHistoryItem; position: number }[] = [];
  for (const revealed of records) {
    const item = toSecurityHistoryItem(revealed, catalogue);
    if (item !== null) items.push({ item, position: revealed.record.position });
  }
  return items.sort((a, b) => b.position - a.position).map(({ item }) => item);
}

/** The allow-list enforced on the value itself, so a field added to the type later is not shown by accident. */
function pickAllowed(item: SecurityHistoryItem): SecurityHistoryItem {
  const picked: Record<string, unknown> = {};
  for (const field of SECURITY_HISTORY_FIELDS) if (Object.hasOwn(item, field)) picked[field] = item[field];
  return picked as unknown as SecurityHistoryItem;
}
