import { AUDIT_SERVICE_SOURCE, type AuditServiceEventType } from '@tessera/audit-domain';
import type { Actor } from '@tessera/contracts';
import { type Principal, currentCorrelationId, hasRole } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { SourcedEvent } from '../chain/chain-appender.service';

export const AUDIT_SERVICE_ACTOR: Actor = { kind: 'system', id: 'audit-service' };

/** The actor a staff caller of the audit service is recorded as (accountability: their id in clear). */
export function staffActor(principal: Principal): Actor {
  return { kind: hasRole(principal, 'admin') ? 'admin' : 'auditor', id: principal.subject };
}

/**
 * An event the audit service records about its own log (AUDIT_SERVICE_EVENTS in the domain): it goes
 * straight into the chain, in the transaction of the change it describes, under source
 * `tessera.audit.v1`, with the request's correlation id.
 */
export function auditServiceEvent(type: AuditServiceEventType, actor: Actor, data: Record<string, unknown>, now: Date): SourcedEvent {
  const eventId = uuidv7(now.getTime());
  return {
    source: AUDIT_SERVICE_SOURCE,
    event: {
      eventId,
      type,
      version: 1,
      streamId: 'audit-log',
      occurredAt: now.toISOString(),
      actor,
      correlationId: currentCorrelationId() ?? eventId,
      causationId: null,
      data,
    },
  };
}
