import { readFile } from 'node:fs/promises';
import { Metadata, type ServiceError, credentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from '@tessera/contracts';
import {
  type CredentialRevoker,
  CredentialRevocationRefused,
  CredentialRevocationUnavailable,
  type RevokeCredentialRequest,
} from './credential-revoker.port';

export interface AuthServiceRevokerOptions {
  /** host:port of auth-service's gRPC server (RevokeCredential, for recoveries and incidents). */
  readonly grpcUrl: string;
  /** Base URL of auth-service's REST API (DELETE …/factors/{id}, for the user's own removals). */
  readonly httpUrl: string;
  readonly deadlineMs: number;
  /** device-registry's own bearer token for gRPC: inline, or read from a file on every call (rotation). */
  readonly serviceToken: { readonly value: string } | { readonly file: string } | null;
}

interface RevokeResponse {
  credential_id: string;
  already_revoked: boolean;
}
type UnaryCall<Req, Res> = (request: Req, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response?: Res) => void) => void;
interface AuthServiceClient {
  RevokeCredential: UnaryCall<Record<string, string>, RevokeResponse>;
  close(): void;
}

/**
 * Revokes credentials in auth-service, by the path auth-service offers for each authority. Both hold
 * S23 — the credential fails verification from the moment the call returns — and both are idempotent:
 *
 * - the user's own removal: REST `DELETE /v1/users/{userId}/factors/{id}` with the user's bearer token
 *   and step-up assertion, so auth-service applies S21 and S24 to the user's own request;
 * - a recovery or incident: gRPC `RevokeCredential` (auth.proto) with device-registry's service token
 *   and the recovery or incident id.
 */
export class AuthServiceCredentialRevoker implements CredentialRevoker {
  private readonly client: AuthServiceClient;

  constructor(private readonly options: AuthServiceRevokerOptions) {
    const definition = loadSync(protoPath('auth'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const loaded = loadPackageDefinition(definition) as unknown as {
      tessera: { auth: { v1: { AuthService: new (url: string, creds: ReturnType<typeof credentials.createInsecure>) => AuthServiceClient } } };
    };
    this.client = new loaded.tessera.auth.v1.AuthService(options.grpcUrl, credentials.createInsecure());
  }

  revoke(request: RevokeCredentialRequest): Promise<{ alreadyRevoked: boolean }> {
    return request.authority.kind === 'user' ? this.revokeAsUser(request, request.authority) : this.revokeByCommand(request);
  }

  close(): void {
    this.client.close();
  }

  private async revokeAsUser(request: RevokeCredentialRequest, authority: { bearerToken: string; stepUpAssertion: string }): Promise<{ alreadyRevoked: boolean }> {
    const url = `${this.options.httpUrl}/v1/users/${encodeURIComponent(request.userId)}/factors/${request.credentialId}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'DELETE',
        headers: {
          authorization: `Bearer ${authority.bearerToken}`,
          'x-step-up-assertion': authority.stepUpAssertion,
          'idempotency-key': request.idempotencyKey,
          'x-correlation-id': request.correlationId,
        },
        signal: AbortSignal.timeout(this.options.deadlineMs),
      });
    } catch {
      throw new CredentialRevocationUnavailable('auth-service did not answer');
    }
    const body = (await response.json().catch(() => undefined)) as { alreadyRevoked?: boolean; error?: { code?: string; message?: string } } | undefined;
    if (response.ok) return { alreadyRevoked: body?.alreadyRevoked === true };
    const code = body?.error?.code;
    // A credential auth-service does not know cannot verify: for S23 that is as good as revoked.
    if (response.status === 404 && code !== undefined && code !== 'not_found') return { alreadyRevoked: true };
    if (response.status === 401 || response.status === 403) throw refused(403, code ?? 'forbidden', body?.error?.message);
    if (response.status === 409) throw refused(409, code ?? 'conflict', body?.error?.message);
    if (response.status === 400 || response.status === 422) throw refused(422, code ?? 'invalid', body?.error?.message);
    throw new CredentialRevocationUnavailable(`auth-service answered ${response.status}`);
  }

  private async revokeByCommand(request: RevokeCredentialRequest): Promise<{ alreadyRevoked: boolean }> {
    const { authority } = request;
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await this.serviceToken()}`);
    metadata.set('x-correlation-id', request.correlationId);
    const message = {
      user_id: request.userId,
      credential_id: request.credentialId,
      idempotency_key: request.idempotencyKey,
      reason: authority.kind,
      recovery_id: authority.kind === 'recovery' ? authority.recoveryId : authority.kind === 'incident' ? authority.incidentId : '',
    };
    return new Promise((resolve, reject) => {
      this.client.RevokeCredential(message, metadata, { deadline: Date.now() + this.options.deadlineMs }, (error, response) => {
        if (!error) return resolve({ alreadyRevoked: response?.already_revoked === true });
        if (error.code === status.NOT_FOUND) return resolve({ alreadyRevoked: true });
        reject(translate(error));
      });
    });
  }

  private async serviceToken(): Promise<string> {
    const source = this.options.serviceToken;
    if (!source) throw new CredentialRevocationUnavailable('device-registry has no service token for auth-service (AUTH_SERVICE_TOKEN or AUTH_SERVICE_TOKEN_FILE)');
    if ('value' in source) return source.value;
    try {
      return (await readFile(source.file, 'utf8')).trim();
    } catch {
      throw new CredentialRevocationUnavailable('the service token file for auth-service cannot be read');
    }
  }
}

function refused(status: 403 | 409 | 422, code: string, message: string | undefined): CredentialRevocationRefused {
  return new CredentialRevocationRefused(status, code, message ? `auth-service refused: ${message}` : 'auth-service refused the revocation');
}

/**
 * gRPC statuses from auth-service carry "<code>: <message>" (the platform's exception filter, which
 * maps HTTP 409 to ALREADY_EXISTS and 422 to FAILED_PRECONDITION). Refusals keep auth-service's code;
 * transport failures and auth-service's own trouble mean "not known to be revoked, retry".
 */
function translate(error: ServiceError): Error {
  const [, code, text] = /^([a-z][a-z0-9_]*): (.*)$/s.exec(error.details ?? '') ?? [];
  switch (error.code) {
    case status.PERMISSION_DENIED:
      return refused(403, code ?? 'forbidden', text);
    case status.ALREADY_EXISTS:
    case status.ABORTED:
      return refused(409, code ?? 'conflict', text);
    case status.FAILED_PRECONDITION:
    case status.INVALID_ARGUMENT:
      return refused(422, code ?? 'invalid', text);
    default:
      return new CredentialRevocationUnavailable(`auth-service did not revoke the credential (gRPC status ${error.code})`);
  }
}
