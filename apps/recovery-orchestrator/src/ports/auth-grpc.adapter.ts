import { type ChannelCredentials, credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { type AuthFactor, type AuthPort, type ContactChannelsPort, NotConfiguredError } from './ports';

type Call = (request: object, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response: unknown) => void) => void;
type AuthServiceClient = Record<string, Call> & { close(): void };
interface AuthPackage {
  readonly tessera: { readonly auth: { readonly v1: { readonly AuthService: new (address: string, credentials: ChannelCredentials) => AuthServiceClient } } };
}

/** gRPC status codes that mean "no, and asking again will not change it" (grpc/doc/statuscodes.md). */
const FINAL = new Map<number, 'invalid' | 'forbidden' | 'not_found' | 'conflict'>([
  [3, 'invalid'],
  [5, 'not_found'],
  [6, 'conflict'],
  [7, 'forbidden'],
  [9, 'conflict'],
  [16, 'forbidden'],
]);

/**
 * auth-service over gRPC. Its errors carry Tessera's code first ("code: message"); a final status is
 * raised as a DomainError (not retried, shown to the caller), anything else as a plain error that the
 * activity retries.
 */
export class AuthGrpcAdapter implements AuthPort, ContactChannelsPort {
  private readonly client: AuthServiceClient | null;

  constructor(
    private readonly address: string | undefined,
    /** The bearer token, or a function that reads it (a file re-minted on restart). */
    private readonly token: string | (() => string) | undefined,
    private readonly timeoutMs = 5_000,
  ) {
    if (!address) {
      this.client = null;
      return;
    }
    const definition = loadSync(protoPath('auth'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const pkg = loadPackageDefinition(definition) as unknown as AuthPackage;
    this.client = new pkg.tessera.auth.v1.AuthService(address, credentials.createInsecure());
  }

  close(): void {
    this.client?.close();
  }

  private call<T>(method: string, request: object): Promise<T> {
    const client = this.client;
    if (!client) return Promise.reject(new NotConfiguredError('auth-service', 'AUTH_GRPC_ADDRESS'));
    const metadata = new Metadata();
    const token = typeof this.token === 'function' ? this.token() : this.token;
    if (token) metadata.set('authorization', `Bearer ${token}`);
    return new Promise<T>((resolve, reject) => {
      client[method].call(client, request, metadata, { deadline: Date.now() + this.timeoutMs }, (error, response) => {
        if (!error) return resolve(response as T);
        const kind = FINAL.get(error.code);
        const [code, ...rest] = (error.details ?? '').split(': ');
        if (kind) return reject(new DomainError(/^[a-z_]{2,64}$/.test(code) ? `auth_${code}` : 'auth_refused', rest.join(': ') || 'auth-service refused the call', kind));
        reject(Object.assign(new Error(`auth-service ${method} failed with gRPC status ${error.code}`), { grpcStatus: error.code }));
      });
    });
  }

  async listFactors(userId: string): Promise<{ factors: readonly AuthFactor[]; frozen: boolean }> {
    const response = await this.call<{ factors: { factor_id: string; kind: string; status: string; created_at: string }[]; frozen: boolean }>('ListFactors', { user_id: userId });
    return {
      frozen: response.frozen,
      factors: response.factors.map((factor) => ({ factorId: factor.factor_id, kind: factor.kind, status: factor.status, createdAt: factor.created_at || null })),
    };
  }

  async verify(input: { userId: string; method: string; proofJson: string; clientAddress: string }): Promise<{ method: string; credentialId: string }> {
    const response = await this.call<{ method: string; credential_id: string }>('Verify', {
      user_id: input.userId,
      method: input.method,
      proof_json: input.proofJson,
      client_address: input.clientAddress,
    });
    return { method: response.method, credentialId: response.credential_id };
  }

  async revokeCredential(input: { userId: string; credentialId: string; idempotencyKey: string; reason: string; recoveryId: string }): Promise<void> {
    await this.call('RevokeCredential', {
      user_id: input.userId,
      credential_id: input.credentialId,
      idempotency_key: input.idempotencyKey,
      reason: input.reason,
      recovery_id: input.recoveryId,
    });
  }

  async freezeAccount(input: { userId: string; incidentId: string; idempotencyKey: string; reason: string }): Promise<void> {
    await this.call('FreezeAccount', { user_id: input.userId, incident_id: input.incidentId, idempotency_key: input.idempotencyKey, reason: input.reason });
  }

  async unfreezeAccount(input: { userId: string; incidentId: string; idempotencyKey: string }): Promise<void> {
    await this.call('UnfreezeAccount', { user_id: input.userId, incident_id: input.incidentId, idempotency_key: input.idempotencyKey });
  }

  async issueTemporaryAccessPass(input: Parameters<AuthPort['issueTemporaryAccessPass']>[0]): Promise<{ passId: string }> {
    const response = await this.call<{ pass_id: string }>('IssueTemporaryAccessPass', {
      user_id: input.userId,
      recovery_id: input.recoveryId,
      idempotency_key: input.idempotencyKey,
      lifetime_seconds: input.lifetimeSeconds,
      delivery_channel: input.delivery.channel,
      delivery_address: input.delivery.address,
    });
    return { passId: response.pass_id };
  }

  async revokeTemporaryAccessPass(input: { userId: string; passId: string; idempotencyKey: string }): Promise<void> {
    await this.call('RevokeTemporaryAccessPass', { user_id: input.userId, pass_id: input.passId, idempotency_key: input.idempotencyKey });
  }

  /** Personal data in the answer: callers keep it inside the notifier and log counts only (S30). */
  async listContactChannels(userId: string): Promise<{ kind: 'email' | 'sms'; address: string }[] | null> {
    try {
      const response = await this.call<{ channels: { kind: string; address: string }[] }>('ListContactChannels', { user_id: userId });
      return response.channels.flatMap((channel) => (channel.kind === 'email' || channel.kind === 'sms' ? [{ kind: channel.kind, address: channel.address }] : []));
    } catch (error) {
      // UNIMPLEMENTED (grpc/doc/statuscodes.md, 12): an auth-service from before this method.
      if ((error as { grpcStatus?: number }).grpcStatus === 12) return null;
      throw error;
    }
  }
}
