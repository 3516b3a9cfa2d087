import { z } from 'zod';

/**
 * The event envelope (DESIGN.md "Events"). Every event stored in an event store and every message on
 * a `tessera.*` topic has this shape; `data` is validated against the schema registered for
 * `type`@`version` (see registry.ts). No secret ever goes in an envelope.
 */
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'must be a lowercase UUID');

export const actorSchema = z
  .object({
    kind: z.enum(['user', 'service', 'system', 'helpdesk', 'security-officer', 'admin', 'auditor']),
    id: z.string().min(1).max(200),
  })
  .strict();
export type Actor = z.infer<typeof actorSchema>;

export const envelopeSchema = z
  .object({
    eventId: uuid,
    type: z.string().regex(/^[A-Z][A-Za-z0-9]{2,80}$/, 'must be a PascalCase past-tense name'),
    version: z.number().int().min(1).max(1000),
    streamId: z.string().min(1).max(300),
    occurredAt: z.iso.datetime({ offset: false }),
    actor: actorSchema,
    correlationId: z.string().min(1).max(200),
    causationId: z.string().min(1).max(200).nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();

export interface EventEnvelope<Type extends string = string, Data = Record<string, unknown>> {
  readonly eventId: string;
  readonly type: Type;
  readonly version: number;
  readonly streamId: string;
  readonly occurredAt: string;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly data: Data;
}

/** What a producer supplies about the request that caused an event. */
export interface EventMetadata {
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId?: string | null;
}
