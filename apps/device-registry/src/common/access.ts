import { type Actor, type EventMetadata } from '@tessera/contracts';
import { type ExecutionContext, createParamDecorator } from '@nestjs/common';
import { ApiError, currentCorrelationId, hasRole, type Principal, type Role } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';

/**
 * Who may do what with a user's devices, readiness and vault (DESIGN.md "Callers and authorisation").
 * People act on their own account with the `user` role; staff and internal services act on anyone's.
 *
 * | action        | the user | staff roles                       | services (scope)   |
 * |---------------|----------|-----------------------------------|--------------------|
 * | read          | yes      | helpdesk, security-officer, admin | devices:read       |
 * | register      | yes      | admin                             | —                  |
 * | rename        | yes      | helpdesk, admin                   | —                  |
 * | report-lost   | yes      | helpdesk, security-officer, admin | devices:revoke     |
 * | revoke        | step-up  | security-officer, admin (context) | devices:revoke     |
 * | vault write   | yes      | —                                 | —                  |
 * | vault restore | step-up  | —                                 | —                  |
 *
 * A revocation by staff or a service names the recovery or incident it belongs to; auth-service checks
 * that context again when it revokes the credentials. The vault is the user's alone: nobody else can
 * decrypt it, so nobody else has a reason to upload or download it.
 */
export type DeviceAction = 'read' | 'register' | 'rename' | 'report-lost' | 'revoke' | 'vault-write' | 'vault-restore';

export const READ_SCOPE = 'devices:read';
export const REVOKE_SCOPE = 'devices:revoke';

const STAFF: Readonly<Record<DeviceAction, readonly Role[]>> = {
  read: ['helpdesk', 'security-officer', 'admin'],
  register: ['admin'],
  rename: ['helpdesk', 'admin'],
  'report-lost': ['helpdesk', 'security-officer', 'admin'],
  revoke: ['security-officer', 'admin'],
  'vault-write': [],
  'vault-restore': [],
};

const SERVICE_SCOPE: Readonly<Partial<Record<DeviceAction, string>>> = {
  read: READ_SCOPE,
  'report-lost': REVOKE_SCOPE,
  revoke: REVOKE_SCOPE,
};

export function isSelf(principal: Principal, userId: string): boolean {
  return principal.subject === userId && hasRole(principal, 'user');
}

/** True when `principal` may do `action` on `userId`'s account. */
export function may(principal: Principal, userId: string, action: DeviceAction): boolean {
  return isSelf(principal, userId) || mayForOthers(principal, action);
}

/** True when `principal` may do `action` on any account, by a staff role or a service scope. */
export function mayForOthers(principal: Principal, action: DeviceAction): boolean {
  const roles = STAFF[action];
  if (roles.length > 0 && hasRole(principal, ...roles)) return true;
  const scope = SERVICE_SCOPE[action];
  return scope !== undefined && hasRole(principal, 'service') && principal.scopes.includes(scope);
}

/** For routes under /v1/users/{userId}: 403 without saying whether the account exists. */
export function assertMay(principal: Principal, userId: string, action: DeviceAction): void {
  if (!may(principal, userId, action)) throw new ApiError(403, 'forbidden', 'You may not act on this account.');
}

/**
 * For routes under /v1/devices/{deviceId}: someone else's device is answered exactly like a device
 * that does not exist, so device ids cannot be probed across accounts.
 */
export function deviceNotFound(): ApiError {
  return new ApiError(404, 'device_not_found', 'No such device.');
}

/** The actor recorded on events: the user themself, or the staff role or service acting for them. */
export function actorOf(principal: Principal, userId: string): Actor {
  if (isSelf(principal, userId)) return { kind: 'user', id: principal.subject };
  for (const role of ['admin', 'security-officer', 'helpdesk', 'auditor', 'service'] as const) {
    if (hasRole(principal, role)) return { kind: role, id: principal.subject };
  }
  return { kind: 'user', id: principal.subject };
}

export function requestMetadata(principal: Principal, userId: string): EventMetadata {
  return { actor: actorOf(principal, userId), correlationId: currentCorrelationId() ?? uuidv7(), causationId: null };
}

/** The caller's bearer token from an Authorization value (the guard has already checked its form and signature). */
export function bearerOf(authorization: string | undefined): string {
  return (authorization ?? '').replace(/^Bearer /, '');
}

/** The caller's bearer token of the current HTTP request (documented by ApiBearerAuth, not as a parameter). */
export const CallerBearer = createParamDecorator((_data: unknown, context: ExecutionContext): string =>
  bearerOf(context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization),
);
