import type { EventEnvelope } from '@tessera/contracts';

/**
 * An envelope as the audit log stores it.
 *
 * - `occurredAt` is normalised to millisecond precision (`toISOString`): the record is hashed as
 *   written and read back from a TIMESTAMPTZ column, which must give the same string (RFC 3339
 *   allows any number of fraction digits; the contracts accept them).
 * - U+0000 is replaced by U+FFFD in every string: PostgreSQL TEXT and JSONB cannot hold it, and an
 *   event that can never be inserted would either stall the consumer or leave the log. The same
 *   repair the domain applies to lone surrogates: the record keeps everything else.
 */
export function storableEnvelope(event: EventEnvelope): EventEnvelope {
  const normalised: EventEnvelope = { ...event, occurredAt: new Date(event.occurredAt).toISOString() };
  // JSON.stringify writes U+0000 as \u0000; a literal "\u0000" text also matches and is left as it is below.
  return JSON.stringify(normalised).includes('\\u0000') ? (withoutNul(normalised) as EventEnvelope) : normalised;
}

function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value;
  if (Array.isArray(value)) return value.map(withoutNul);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [withoutNul(key) as string, withoutNul(inner)]));
  }
  return value;
}
