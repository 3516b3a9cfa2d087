import { AUDIT_CATEGORIES, AUDIT_OUTCOMES } from '@tessera/audit-domain';
import { z } from 'zod';

/** Ids as the platform's tokens and envelopes carry them: printable, no spaces, bounded. */
export const personIdSchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 printable characters without spaces');
const eventTypeSchema = z.string().regex(/^[A-Z][A-Za-z0-9]{2,80}$/, 'must be an event type name such as RecoveryApproved');
const correlationIdSchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 printable characters without spaces');
const instantSchema = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone, e.g. 2025-03-01T08:00:00Z' }).transform((value) => new Date(value));
const cursorSchema = z.string().min(1).max(64);
const limitSchema = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

function rangeIsOrdered(value: { from?: Date; to?: Date }): boolean {
  return value.from === undefined || value.to === undefined || value.from < value.to;
}

/** GET /v1/audit/records (and gRPC ListRecords): any combination of filters, keyset-paginated. */
export const recordsQuerySchema = z
  .strictObject({
    userId: personIdSchema.optional(),
    actorId: personIdSchema.optional(),
    eventType: eventTypeSchema.optional(),
    correlationId: correlationIdSchema.optional(),
    category: z.enum(AUDIT_CATEGORIES).optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: limitSchema(500, 100),
    cursor: cursorSchema.optional(),
  })
  .refine(rangeIsOrdered, { message: '"from" must be before "to"', path: ['from'] });
export type RecordsQuery = z.infer<typeof recordsQuerySchema>;

/** GET /v1/users/{userId}/security-history. */
export const historyQuerySchema = z.strictObject({
  limit: limitSchema(100, 20),
  cursor: cursorSchema.optional(),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export const userIdParamSchema = personIdSchema;

/** A period, required for exports and reports; at most 366 days so one request stays bounded. */
const MAX_PERIOD_MS = 366 * 86_400_000;
const periodShape = { from: instantSchema, to: instantSchema };
function periodIsBounded(value: { from: Date; to: Date }): boolean {
  return value.to.getTime() - value.from.getTime() <= MAX_PERIOD_MS;
}

const positionSchema = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * Either a period (records with occurredAt in [from, to), at most 366 days) or a range of positions
 * [fromPosition, toPosition]. Only a range of positions is contiguous, which is what verifying an
 * export away from the service needs (starting at 1 or right after a checkpoint).
 */
export const exportQuerySchema = z
  .strictObject({
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    fromPosition: positionSchema.optional(),
    toPosition: positionSchema.optional(),
    format: z.enum(['ndjson', 'csv']).default('ndjson'),
  })
  .refine(
    (value) =>
      (value.from !== undefined && value.to !== undefined && value.fromPosition === undefined && value.toPosition === undefined) ||
      (value.fromPosition !== undefined && value.toPosition !== undefined && value.from === undefined && value.to === undefined),
    { message: 'give either a period (from and to) or a range of positions (fromPosition and toPosition)', path: ['from'] },
  )
  .refine(rangeIsOrdered, { message: '"from" must be before "to"', path: ['from'] })
  .refine((value) => value.from === undefined || value.to === undefined || periodIsBounded({ from: value.from, to: value.to }), { message: 'a period is at most 366 days', path: ['to'] })
  .refine((value) => value.fromPosition === undefined || value.toPosition === undefined || value.fromPosition <= value.toPosition, {
    message: '"fromPosition" must not be after "toPosition"',
    path: ['fromPosition'],
  });
export type ExportQuery = z.infer<typeof exportQuerySchema>;

export const dataSubjectExportQuerySchema = z.strictObject({ userId: personIdSchema, format: z.enum(['ndjson', 'csv']).default('ndjson') });
export type DataSubjectExportQuery = z.infer<typeof dataSubjectExportQuerySchema>;

export const REPORT_KINDS = ['recoveries', 'admin-actions', 'factor-changes', 'failed-verification-spikes'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const reportKindSchema = z.enum(REPORT_KINDS);

export const reportQuerySchema = z
  .strictObject({
    ...periodShape,
    format: z.enum(['json', 'csv']).default('json'),
    // Spikes only: a window of failures per subject or client address, and how many make a spike.
    windowMinutes: z.coerce.number().int().min(1).max(1440).default(10),
    threshold: z.coerce.number().int().min(2).max(100_000).default(20),
  })
  .refine(rangeIsOrdered, { message: '"from" must be before "to"', path: ['from'] })
  .refine(periodIsBounded, { message: 'a period is at most 366 days', path: ['to'] });
export type ReportQuery = z.infer<typeof reportQuerySchema>;

export const verifyBodySchema = z.strictObject({
  includeSink: z.boolean().default(false).describe('Also read the checkpoints from the separate sink and hold the database to them.'),
});
export type VerifyBody = z.infer<typeof verifyBodySchema>;

const ticketSchema = z.string().regex(/^[\x21-\x7e][\x20-\x7e]{0,99}$/, 'must be a ticket reference of 1-100 printable characters');
const reasonSchema = z.string().min(1).max(1000);

export const erasureBodySchema = z.strictObject({
  userId: personIdSchema,
  ticket: ticketSchema,
  reason: reasonSchema.optional(),
});
export type ErasureBody = z.infer<typeof erasureBodySchema>;

export const retentionBodySchema = z.strictObject({
  retentionDays: z.number().int().min(1).max(36_500).nullable().describe('Days records are kept; null keeps them for ever.'),
  ticket: ticketSchema,
  reason: reasonSchema.optional(),
});
export type RetentionBody = z.infer<typeof retentionBodySchema>;
