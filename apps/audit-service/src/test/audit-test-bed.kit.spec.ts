/**
 * The audit service test bed for integration specs (named *.spec.ts so only specs may use it; it
 * holds no tests of its own).
 */
import { type ChannelCredentials, type Client as GrpcClient, credentials, loadPackageDefinition, Metadata } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { type Actor, type EventEnvelope, protoPath } from '@tessera/contracts';
import { type TestService, createTopics, startTestService, testKafka, uniqueName } from '@tessera/testing';
import { type Clock, uuidv7 } from '@tessera/util';
import { Writable } from 'node:stream';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { ChainAppender } from '../chain/chain-appender.service';
import { AuditServiceDefinition, AuditServiceModule, type auditServiceConfigSchema } from '../service';
import { type SyntheticOptions, syntheticEvent } from './synthetic-events';

export type AuditTestService = TestService<typeof auditServiceConfigSchema>;

export interface AuditTestBed {
  readonly audit: AuditTestService;
  readonly kafka: Kafka;
  /** This test file's own topics, so parallel test files never see each other's events. */
  readonly topics: { readonly auth: string; readonly devices: string; readonly recovery: string; readonly checkpoints: string };
  stop(): Promise<void>;
}

/**
 * The real audit service with its own database, its own tessera.* topics on the shared Kafka and its
 * own consumer group (the service name is unique per test file: the group is `<name>.ingest`).
 */
export async function startAuditTestBed(env: Record<string, string> = {}, clock?: Clock, logLines?: string[]): Promise<AuditTestBed> {
  const kafka = testKafka(uniqueName('audit-test'));
  const topics = {
    auth: uniqueName('tessera.test-auth'),
    devices: uniqueName('tessera.test-devices'),
    recovery: uniqueName('tessera.test-recovery'),
    checkpoints: uniqueName('tessera.test-audit-checkpoints'),
  };
  await createTopics(kafka, [topics.auth, topics.devices, topics.recovery], 3);
  await createTopics(kafka, [topics.checkpoints], 1);
  const audit = await startTestService(
    { ...AuditServiceDefinition, name: uniqueName('audit-service'), rootModule: (resources) => AuditServiceModule.register(resources, clock) },
    {
      env: {
        AUDIT_INGEST_TOPICS: [topics.auth, topics.devices, topics.recovery].join(','),
        AUDIT_CHECKPOINT_TOPIC: topics.checkpoints,
        AUDIT_CHECKPOINT_INTERVAL_MS: '0',
        AUDIT_RETENTION_INTERVAL_MS: '0',
        ...env,
      },
      ...(logLines === undefined
        ? {}
        : {
            logDestination: new Writable({
              write(chunk, _encoding, done) {
                logLines.push(...String(chunk).split('\n').filter(Boolean));
                done();
              },
            }),
          }),
    },
  );
  return { audit, kafka, topics, stop: () => audit.stop() };
}

export function envelope(type: string, data: Record<string, unknown>, actor: Actor, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    eventId: uuidv7(),
    type,
    version: 1,
    streamId: `stream-${typeof data['userId'] === 'string' ? data['userId'] : 'none'}`,
    occurredAt: new Date().toISOString(),
    actor,
    correlationId: uniqueName('corr'),
    causationId: null,
    data,
    ...overrides,
  };
}

/**
 * Appends the synthetic mixed stream of contract-shaped events (recoveries, approvals, failed
 * verifications, lost devices, drills, freezes, an unknown type) straight through the service's own
 * chain appender, n = from .. from + count - 1.
 */
export async function appendSynthetic(audit: AuditTestService, from: number, count: number, options: SyntheticOptions = {}, batchSize = 500): Promise<void> {
  const appender = audit.service.app.get(ChainAppender);
  for (let start = from; start < from + count; start += batchSize) {
    const end = Math.min(start + batchSize, from + count);
    const events = Array.from({ length: end - start }, (_, i) => syntheticEvent(start + i, options));
    await audit.service.resources.dataSource.transaction((manager) => appender.append(manager, events));
  }
}

/** A connection as the database owner: what an insider with the service's credentials can do. */
export async function ownerConnection(audit: AuditTestService): Promise<Client> {
  const client = new Client({ connectionString: audit.database.url });
  await client.connect();
  return client;
}

/** The answers of audit.proto's methods, as @grpc/proto-loader gives them (keepCase, int64 as string). */
export interface GrpcListRecordsAnswer {
  readonly records: readonly { readonly event_type: string; readonly details_json: string; readonly actor_id: { readonly value: string; readonly erased: boolean } | null }[];
  readonly next_cursor: string;
}
export interface GrpcHistoryAnswer {
  readonly items: readonly { readonly title: string; readonly by: string }[];
  readonly next_cursor: string;
}
export interface GrpcVerifyAnswer {
  readonly ok: boolean;
  readonly record_count: string;
  readonly failure: { readonly position: string; readonly reason: string } | null;
}

type GrpcMethod = (request: object, metadata: Metadata, callback: (error: Error | null, response: unknown) => void) => void;

/** A gRPC client of the running audit service, calling with a bearer token as metadata. */
export function auditGrpcClient(audit: AuditTestService) {
  const definition = loadSync(protoPath('audit'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = loadPackageDefinition(definition) as unknown as { tessera: { audit: { v1: { AuditService: new (url: string, creds: ChannelCredentials) => GrpcClient & Record<string, GrpcMethod> } } } };
  const client = new loaded.tessera.audit.v1.AuditService(audit.service.grpcUrl ?? '', credentials.createInsecure());
  return {
    call<T>(method: 'ListRecords' | 'GetSecurityHistory' | 'VerifyChain', request: object, token: string): Promise<T> {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return new Promise((resolve, reject) => client[method].call(client, request, metadata, (error, response) => (error ? reject(error) : resolve(response as T))));
    },
    close: () => client.close(),
  };
}
