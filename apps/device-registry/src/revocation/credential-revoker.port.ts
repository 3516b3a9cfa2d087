/**
 * Who is removing the credential, as auth-service must be told:
 * - `user`: the user removing their own device. auth-service checks, on its own facts, that the
 *   step-up is recent and strong enough (S21) and that this is not their last factor (S24).
 * - `recovery` / `incident`: the recovery workflow or the security team; auth-service checks the
 *   recovery or the freeze of that incident (the one place the last factor may go).
 */
export type RevocationAuthority =
  | { readonly kind: 'user'; readonly bearerToken: string; readonly stepUpAssertion: string }
  | { readonly kind: 'recovery'; readonly recoveryId: string }
  | { readonly kind: 'incident'; readonly incidentId: string };

export interface RevokeCredentialRequest {
  readonly userId: string;
  readonly credentialId: string;
  /** Stable per (device, credential): a retried revocation never doubles its effect. */
  readonly idempotencyKey: string;
  readonly authority: RevocationAuthority;
  readonly correlationId: string;
}

/**
 * What device-registry needs from auth-service to revoke a device (S23): revoke one credential, in
 * force when the promise resolves. Implemented by AuthServiceCredentialRevoker; tests plug a stand-in.
 */
export interface CredentialRevoker {
  revoke(request: RevokeCredentialRequest): Promise<{ readonly alreadyRevoked: boolean }>;
}

/** auth-service said no (e.g. `last_factor`, `account_frozen`): a decision, passed on with its code. */
export class CredentialRevocationRefused extends Error {
  constructor(
    readonly status: 403 | 409 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialRevocationRefused';
  }
}

/** auth-service could not be reached or failed: nothing is known to be revoked; retrying is safe. */
export class CredentialRevocationUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialRevocationUnavailable';
  }
}
