import { createServer } from 'node:net';
import { type BaseConfig, DevIssuer, type Role, type RunningService, type ServiceDefinition, startService } from '@tessera/platform';
import type { DestinationStream } from 'pino';
import type { z } from 'zod';
import { testInfra } from './infra';
import { kafkaBrokers } from './kafka';
import { type TestDatabase, createTestDatabase } from './postgres';

/** A free loopback TCP port (for servers, such as gRPC, that must be told their port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestService<S extends z.ZodObject> {
  readonly service: RunningService<z.infer<S> & BaseConfig>;
  readonly url: string;
  readonly database: TestDatabase;
  readonly issuer: DevIssuer;
  /** A bearer token from the development issuer the service trusts. */
  token(subject: string, roles?: readonly Role[], scopes?: readonly string[]): Promise<string>;
  /** JSON over HTTP; `token` adds the bearer header. The body is JSON of any shape, asserted on by the test. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * Starts a real service in this process for an integration test: its own fresh database, the local
 * platform's Kafka (or `kafkaBrokers`), a development issuer it trusts, free ports. Logs are silent
 * unless TESSERA_TEST_LOGS is set.
 */
export async function startTestService<S extends z.ZodObject>(
  definition: ServiceDefinition<S>,
  options: { env?: Record<string, string>; kafkaBrokers?: string[]; database?: TestDatabase; logDestination?: DestinationStream } = {},
): Promise<TestService<S>> {
  const database = options.database ?? (await createTestDatabase(definition.name));
  const issuer = await DevIssuer.generate('test');
  const infra = testInfra();
  const service = await startService(definition, {
    env: {
      ...process.env,
      TESSERA_ENV: 'test',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      GRPC_PORT: String(await freePort()),
      DATABASE_URL: database.url,
      KAFKA_BROKERS: (options.kafkaBrokers ?? kafkaBrokers()).join(','),
      TEMPORAL_ADDRESS: `127.0.0.1:${infra.temporalPort}`,
      TEMPORAL_NAMESPACE: infra.temporalNamespace,
      AUTH_JWKS_JSON: issuer.jwksJson(),
      LOG_LEVEL: process.env.TESSERA_TEST_LOGS ? 'debug' : 'silent',
      ...options.env,
    },
    logDestination: options.logDestination,
  });
  return {
    service,
    url: service.url,
    database,
    issuer,
    token: (subject, roles = ['user'], scopes = []) => issuer.token({ subject, roles, scopes }),
    request: async (method, path, { token, body, rawBody, headers = {} } = {}) => {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: {
          ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: rawBody ?? (body !== undefined ? JSON.stringify(body) : undefined),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON (metrics, HTML docs): keep the text
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    stop: async () => {
      await service.stop();
      if (!options.database) await database.drop();
    },
  };
}
