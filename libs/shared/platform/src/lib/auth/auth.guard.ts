import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../http/api-error';
import { AuthenticationError, JwtVerifier } from './jwt-verifier';
import { type Principal, type Role, hasRole } from './principal';

const PUBLIC = 'tessera:public';
const ROLES_REQUIRED = 'tessera:roles';
const SCOPES_REQUIRED = 'tessera:scopes';

/** No bearer token needed (health, metrics, docs, JWKS, signed single-use links). */
export const Public = () => SetMetadata(PUBLIC, true);
/** At least one of these roles. */
export const RequireRoles = (...roles: Role[]) => SetMetadata(ROLES_REQUIRED, roles);
/** Every one of these scopes (service callers, e.g. `factors:verify`). */
export const RequireScopes = (...scopes: string[]) => SetMetadata(SCOPES_REQUIRED, scopes);

interface WithPrincipal {
  principal?: Principal;
}

/** The verified caller of the current HTTP or gRPC call. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const carrier = (context.getType() === 'rpc' ? context.switchToRpc().getContext() : context.switchToHttp().getRequest()) as WithPrincipal;
  if (!carrier.principal) throw new ApiError(401, 'unauthenticated', 'A bearer token is required.');
  return carrier.principal;
});

/**
 * Every route and gRPC method needs a valid bearer token unless marked @Public(); roles and scopes
 * are checked here, per call. Answers 401 `unauthenticated` or 403 `forbidden`.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(JwtVerifier) private readonly verifier: JwtVerifier,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;

    const { carrier, authorization } = this.credentials(context);
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '');
    if (!match) throw new ApiError(401, 'unauthenticated', 'A bearer token is required.');
    try {
      carrier.principal = (await this.verifier.verify(match[1])).principal;
    } catch (error) {
      if (error instanceof AuthenticationError) throw new ApiError(401, 'unauthenticated', error.message);
      throw error;
    }
    const roles = this.reflector.getAllAndOverride<Role[]>(ROLES_REQUIRED, targets) ?? [];
    if (roles.length > 0 && !hasRole(carrier.principal, ...roles)) {
      throw new ApiError(403, 'forbidden', `This needs one of the roles: ${roles.join(', ')}.`);
    }
    const scopes = this.reflector.getAllAndOverride<string[]>(SCOPES_REQUIRED, targets) ?? [];
    const missing = scopes.filter((scope) => !carrier.principal?.scopes.includes(scope));
    if (missing.length > 0) throw new ApiError(403, 'forbidden', `This needs the scopes: ${missing.join(', ')}.`);
    return true;
  }

  private credentials(context: ExecutionContext): { carrier: WithPrincipal; authorization: string | undefined } {
    if (context.getType() === 'rpc') {
      const metadata = context.switchToRpc().getContext() as { get(key: string): unknown[] } & WithPrincipal;
      const value = metadata.get('authorization')[0];
      return { carrier: metadata, authorization: typeof value === 'string' ? value : undefined };
    }
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> } & WithPrincipal>();
    return { carrier: request, authorization: request.headers.authorization };
  }
}

/**
 * A person may act on their own account; staff with one of `staffRoles` may act on anyone's.
 * Answers 403 otherwise (and never reveals whether the other account exists).
 */
export function assertSelfOrRoles(principal: Principal, userId: string, ...staffRoles: Role[]): void {
  if (principal.subject === userId && hasRole(principal, 'user')) return;
  if (staffRoles.length > 0 && hasRole(principal, ...staffRoles)) return;
  throw new ApiError(403, 'forbidden', 'You may not act on this account.');
}
