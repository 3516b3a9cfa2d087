import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, ServerCredentials, type ServiceError, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { AUTH_EVENT_SCHEMAS, type AuthEventData, type AuthEventType, protoPath } from '@tessera/contracts';
import { type TestService, createTopics, eventually, startTestService, testKafka, uniqueName } from '@tessera/testing';
import { uuidv7 } from '@tessera/util';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Kafka, Producer } from 'kafkajs';
import { type deviceRegistryConfigSchema } from '../config';
import { DeviceRegistryDefinition } from '../service';

/**
 * Test support for device-registry's integration tests (not part of the service): a real
 * device-registry on a fresh database, its own Kafka topics and consumer group (so test files run in
 * parallel), a step-up issuer standing for auth-service's, and a publisher of auth-service's events.
 */

export const STEP_UP_ISSUER = 'tessera-auth-service';
export const STEP_UP_AUDIENCE = 'tessera';

/** Signs step-up assertions the way auth-service does (ES256, sub, aal, amr, jti, short life). */
export class StepUpIssuer {
  private constructor(
    private readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'],
    readonly jwksJson: string,
    private readonly kid: string,
  ) {}

  static async create(): Promise<StepUpIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `step-up-${randomUUID().slice(0, 8)}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    return new StepUpIssuer(privateKey, JSON.stringify({ keys: [jwk] }), kid);
  }

  async assertion(userId: string, options: { aal?: number; ageSeconds?: number; ttlSeconds?: number; issuer?: string; jti?: string } = {}): Promise<string> {
    const issuedAt = Math.floor(Date.now() / 1000) - (options.ageSeconds ?? 0);
    const aal = options.aal ?? 2;
    return new SignJWT({ aal, acr: `urn:tessera:aal${aal}`, amr: ['otp'], auth_time: issuedAt })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'tessera-step-up+jwt' })
      .setIssuer(options.issuer ?? STEP_UP_ISSUER)
      .setAudience(STEP_UP_AUDIENCE)
      .setSubject(userId)
      .setJti(options.jti ?? randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + (options.ttlSeconds ?? 600))
      .sign(this.privateKey);
  }
}

export interface RevokeCall {
  /** gRPC RevokeCredential (recoveries, incidents) or REST DELETE …/factors/{id} (the user's own). */
  readonly via: 'grpc' | 'http';
  readonly userId: string;
  readonly credentialId: string;
  readonly idempotencyKey: string;
  /** gRPC: the reason field; REST: 'user_removed'. */
  readonly reason: string;
  readonly recoveryId: string;
  readonly authorization: string;
  readonly stepUp: string | null;
}

type Answer = { ok: true; alreadyRevoked: boolean } | { ok: false; grpcCode: number; httpStatus: number; code: string; message: string };

/**
 * Stands for auth-service's two revocation paths in tests that need to inject failures: a real gRPC
 * server implementing RevokeCredential (auth.proto) and a real HTTP server answering
 * DELETE /v1/users/{userId}/factors/{id}, on free ports. Each call is recorded in order, answered as
 * auth-service's contract says (already_revoked on a repeated credential); `failNext` makes the next
 * calls answer unavailable or with a refusal. The story test uses the real auth-service instead.
 */
export class AuthServiceStandIn {
  readonly calls: RevokeCall[] = [];
  private readonly revoked = new Set<string>();
  private failures: Extract<Answer, { ok: false }>[] = [];

  private readonly grpcServer = new Server();
  private readonly httpServer: HttpServer = createServer((request, response) => this.answerHttp(request, response));
  grpcUrl = '';
  httpUrl = '';

  private constructor() {}

  static async start(): Promise<AuthServiceStandIn> {
    const standIn = new AuthServiceStandIn();
    await standIn.listen();
    return standIn;
  }

  private async listen(): Promise<void> {
    const definition = loadSync(protoPath('auth'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const loaded = loadPackageDefinition(definition) as unknown as { tessera: { auth: { v1: { AuthService: { service: never } } } } };
    this.grpcServer.addService(loaded.tessera.auth.v1.AuthService.service, {
      RevokeCredential: (
        call: { request: Record<string, string>; metadata: { get(key: string): unknown[] } },
        callback: (error: Partial<ServiceError> | null, response?: unknown) => void,
      ) => {
        const answer = this.answer({
          via: 'grpc',
          userId: call.request.user_id,
          credentialId: call.request.credential_id,
          idempotencyKey: call.request.idempotency_key,
          reason: call.request.reason,
          recoveryId: call.request.recovery_id,
          authorization: String(call.metadata.get('authorization')[0] ?? ''),
          stepUp: null,
        });
        if (answer.ok) callback(null, { credential_id: call.request.credential_id, already_revoked: answer.alreadyRevoked });
        else callback({ code: answer.grpcCode, details: `${answer.code}: ${answer.message}` });
      },
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      this.grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    await new Promise<void>((resolve) => this.httpServer.listen(0, '127.0.0.1', resolve));
    this.grpcUrl = `127.0.0.1:${grpcPort}`;
    this.httpUrl = `http://127.0.0.1:${(this.httpServer.address() as AddressInfo).port}`;
  }

  private answerHttp(request: IncomingMessage, response: ServerResponse): void {
    const match = /^\/v1\/users\/([^/]+)\/factors\/([0-9a-f-]+)$/.exec(request.url ?? '');
    if (request.method !== 'DELETE' || !match) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'No such resource.' } }));
      return;
    }
    const answer = this.answer({
      via: 'http',
      userId: decodeURIComponent(match[1]),
      credentialId: match[2],
      idempotencyKey: String(request.headers['idempotency-key'] ?? ''),
      reason: 'user_removed',
      recoveryId: '',
      authorization: String(request.headers.authorization ?? ''),
      stepUp: (request.headers['x-step-up-assertion'] as string | undefined) ?? null,
    });
    response
      .writeHead(answer.ok ? 200 : answer.httpStatus, { 'content-type': 'application/json' })
      .end(JSON.stringify(answer.ok ? { factorId: match[2], alreadyRevoked: answer.alreadyRevoked } : { error: { code: answer.code, message: answer.message } }));
  }

  /** The next `times` calls fail: `unavailable`, or a refusal with auth-service's code (e.g. last_factor). */
  failNext(kind: 'unavailable' | { code: string; status: 403 | 409 | 422 }, times = 1): void {
    const grpcFor = { 403: status.PERMISSION_DENIED, 409: status.ALREADY_EXISTS, 422: status.FAILED_PRECONDITION };
    for (let i = 0; i < times; i++) {
      this.failures.push(
        kind === 'unavailable'
          ? { ok: false, grpcCode: status.UNAVAILABLE, httpStatus: 503, code: 'unavailable', message: 'down for the test' }
          : { ok: false, grpcCode: grpcFor[kind.status], httpStatus: kind.status, code: kind.code, message: 'refused for the test' },
      );
    }
  }

  isRevoked(credentialId: string): boolean {
    return this.revoked.has(credentialId);
  }

  private answer(call: RevokeCall): Answer {
    this.calls.push(call);
    const failure = this.failures.shift();
    if (failure) return failure;
    const already = this.revoked.has(call.credentialId);
    this.revoked.add(call.credentialId);
    return { ok: true, alreadyRevoked: already };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.grpcServer.tryShutdown(() => resolve()));
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
  }
}

export interface RegistryKit {
  readonly registry: TestService<typeof deviceRegistryConfigSchema>;
  readonly kafka: Kafka;
  readonly authTopic: string;
  readonly devicesTopic: string;
  readonly stepUps: StepUpIssuer;
  readonly auth: AuthServiceStandIn;
  /** Publishes an auth-service event as auth-service's outbox would (key = user id). */
  publishAuth<T extends AuthEventType>(type: T, data: AuthEventData<T>, occurredAt?: Date): Promise<string>;
  /** A user token from the issuer the registry trusts. */
  userToken(userId: string): Promise<string>;
  /** Every message the registry's outbox has published to its topic so far (collected as they arrive). */
  readonly published: readonly PublishedMessage[];
  /** Waits until a message matching `match` was published, and returns it. */
  publishedEvent(match: (message: PublishedMessage) => boolean): Promise<PublishedMessage>;
  stop(): Promise<void>;
}

export interface PublishedMessage {
  readonly key: string | null;
  /** The raw bytes as text, for scans (S29). */
  readonly raw: string;
  readonly envelope: { type: string; data: Record<string, unknown>; streamId: string; actor: { kind: string; id: string } };
}

/** A credential of `userId` as auth-service would announce it, with the device-registry seeing it. */
export async function startRegistryKit(options: { env?: Record<string, string> } = {}): Promise<RegistryKit> {
  const kafka = testKafka(uniqueName('device-registry-test'));
  const authTopic = uniqueName('test.auth');
  const devicesTopic = uniqueName('test.devices');
  await createTopics(kafka, [authTopic, devicesTopic]);
  const stepUps = await StepUpIssuer.create();
  const auth = await AuthServiceStandIn.start();
  const registry = await startTestService(DeviceRegistryDefinition, {
    env: {
      AUTH_EVENTS_TOPIC: authTopic,
      DEVICE_EVENTS_TOPIC: devicesTopic,
      AUTH_EVENTS_CONSUMER: uniqueName('auth-events'),
      STEP_UP_JWKS_JSON: stepUps.jwksJson,
      STEP_UP_ISSUER,
      STEP_UP_AUDIENCE,
      AUTH_GRPC_URL: auth.grpcUrl,
      AUTH_HTTP_URL: auth.httpUrl,
      AUTH_SERVICE_TOKEN: 'test-service-token',
      // Test blobs use a cheap scrypt so that suites stay fast; production keeps the OWASP floor.
      VAULT_MIN_SCRYPT_LOG2N: '10',
      ...options.env,
    },
  });
  const producer: Producer = kafka.producer();
  await producer.connect();
  const published: PublishedMessage[] = [];
  const reader = kafka.consumer({ groupId: uniqueName('test.devices-reader') });
  await reader.connect();
  await reader.subscribe({ topic: devicesTopic, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const raw = message.value?.toString('utf8') ?? '';
      published.push({ key: message.key?.toString() ?? null, raw, envelope: JSON.parse(raw) });
    },
  });
  return {
    published,
    async publishedEvent(match) {
      let found: PublishedMessage | undefined;
      await eventually(async () => (found = published.find(match)) !== undefined);
      return found as PublishedMessage;
    },
    registry,
    kafka,
    authTopic,
    devicesTopic,
    stepUps,
    auth,
    async publishAuth(type, data, occurredAt = new Date()) {
      const parsed = AUTH_EVENT_SCHEMAS[type].parse(data) as { userId: string };
      const eventId = uuidv7(occurredAt.getTime());
      const envelope = {
        eventId,
        type,
        version: 1,
        streamId: `auth-user-${parsed.userId}`,
        occurredAt: occurredAt.toISOString(),
        actor: { kind: 'user', id: parsed.userId },
        correlationId: uuidv7(),
        causationId: null,
        data: parsed,
      };
      await producer.send({ topic: authTopic, acks: -1, messages: [{ key: parsed.userId, value: JSON.stringify(envelope) }] });
      return eventId;
    },
    userToken: (userId) => registry.token(userId, ['user']),
    async stop() {
      await reader.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await registry.stop();
      await auth.stop();
    },
  };
}

/** Waits until the registry has consumed a published auth event (its id is in the dedupe table). */
export async function consumed(kit: RegistryKit, eventId: string): Promise<void> {
  await eventually(async () => {
    const rows: unknown[] = await kit.registry.service.resources.dataSource.query(`SELECT 1 FROM processed_messages WHERE event_id = $1`, [eventId]);
    return rows.length > 0;
  });
}

export const newId = (): string => uuidv7();
