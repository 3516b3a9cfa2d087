// Test support: a stand-in for auth-service's gRPC API (auth.proto), recording calls, so the
// orchestrator's real gRPC adapter is exercised in integration tests.
import { randomUUID } from 'node:crypto';
import { type handleUnaryCall, loadPackageDefinition, Server, ServerCredentials, type ServiceDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from '@tessera/contracts';

export interface FakeAuthServer {
  readonly address: string;
  readonly calls: { method: string; request: Record<string, unknown> }[];
  /** Codes the fake accepts for Verify: anything else is refused as auth-service would (verification_failed). */
  readonly validCodes: Set<string>;
  stop(): Promise<void>;
}

export async function startFakeAuthServer(): Promise<FakeAuthServer> {
  const definition = loadSync(protoPath('auth'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(definition) as unknown as { tessera: { auth: { v1: { AuthService: { service: ServiceDefinition } } } } };
  const calls: FakeAuthServer['calls'] = [];
  const validCodes = new Set<string>();
  const passes = new Map<string, string>();
  type Request = Record<string, string & number>;
  const record =
    (method: string, answer: (request: Request) => unknown): handleUnaryCall<Request, unknown> =>
    (call, callback) => {
      calls.push({ method, request: call.request });
      try {
        callback(null, answer(call.request));
      } catch (error) {
        callback(error as Parameters<typeof callback>[0]);
      }
    };
  const server = new Server();
  server.addService(pkg.tessera.auth.v1.AuthService.service, {
    Verify: record('Verify', (request) => {
      const proof = JSON.parse(request.proof_json) as { code?: string };
      if (!proof.code || !validCodes.has(proof.code)) throw { code: status.FAILED_PRECONDITION, details: 'verification_failed: The proof does not match' };
      return { method: request.method, assurance_level: 2, step_up_assertion: 'x.y.z', credential_id: 'factor-old-totp' };
    }),
    ListFactors: record('ListFactors', () => ({ factors: [{ factor_id: 'factor-old-totp', kind: 'totp', name: 'phone', status: 'active', created_at: '2020-01-01T00:00:00.000Z', last_used_at: '', remaining_codes: 0 }], frozen: false })),
    RevokeCredential: record('RevokeCredential', (request) => ({ credential_id: request.credential_id, already_revoked: false })),
    FreezeAccount: record('FreezeAccount', () => ({ already_frozen: false })),
    UnfreezeAccount: record('UnfreezeAccount', () => ({ was_frozen: true })),
    IssueTemporaryAccessPass: record('IssueTemporaryAccessPass', (request) => {
      const known = passes.get(request.idempotency_key) ?? randomUUID();
      passes.set(request.idempotency_key, known);
      return { pass_id: known, expires_at: new Date(Date.now() + request.lifetime_seconds * 1000).toISOString() };
    }),
    RevokeTemporaryAccessPass: record('RevokeTemporaryAccessPass', () => ({ already_revoked: false })),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return {
    address: `127.0.0.1:${port}`,
    calls,
    validCodes,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
