/**
 * Who is calling (DESIGN.md "Callers and authorisation"): people and services present bearer JWTs
 * from a configured issuer; roles and scopes come from its claims.
 */
export const ROLES = ['user', 'helpdesk', 'security-officer', 'auditor', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The token's `sub`: a user id for people, a client id for services. */
  readonly subject: string;
  readonly roles: readonly Role[];
  readonly scopes: readonly string[];
  readonly tokenId?: string;
  readonly issuedAt?: Date;
}

export function hasRole(principal: Principal, ...roles: Role[]): boolean {
  return roles.some((role) => principal.roles.includes(role));
}
