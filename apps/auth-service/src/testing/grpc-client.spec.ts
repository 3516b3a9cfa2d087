import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from '@tessera/contracts';

/**
 * A client of tessera.auth.v1.AuthService built the way another Tessera service builds one: the shared
 * .proto, @grpc/grpc-js, a bearer token in the call metadata.
 */
// The answers are protobuf messages of known shapes, read by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GrpcAnswer = { ok: true; response: any } | { ok: false; code: number; details: string };

export interface AuthGrpcClient {
  call(method: string, request: object, token?: string): Promise<GrpcAnswer>;
  close(): void;
}

export function authGrpcClient(address: string): AuthGrpcClient {
  const definition = loadSync(protoPath('auth'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Service = (loadPackageDefinition(definition) as any).tessera.auth.v1.AuthService;
  const client = new Service(address, credentials.createInsecure());
  return {
    call: (method, request, token) =>
      new Promise((resolve) => {
        const metadata = new Metadata();
        if (token) metadata.set('authorization', `Bearer ${token}`);
        client[method](request, metadata, { deadline: Date.now() + 20_000 }, (error: ServiceError | null, response: unknown) => {
          resolve(error ? { ok: false, code: error.code, details: error.details } : { ok: true, response });
        });
      }),
    close: () => client.close(),
  };
}
