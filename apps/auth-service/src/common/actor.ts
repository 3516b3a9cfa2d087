import type { Actor } from '@tessera/contracts';
import { hasRole, type Principal } from '@tessera/platform';

/** Who an event is attributed to: the caller's strongest role, else the person themself. */
export function actorOf(principal: Principal): Actor {
  const kinds = ['admin', 'security-officer', 'helpdesk', 'auditor', 'service'] as const;
  const kind = kinds.find((role) => hasRole(principal, role)) ?? 'user';
  return { kind, id: principal.subject };
}

/** Events the service raises on its own (none today besides what callers cause); kept for scripts. */
export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'auth-service' };
