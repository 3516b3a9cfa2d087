import { Body, Controller, type DynamicModule, Inject, Module, Post } from '@nestjs/common';
import { TOPICS, tesseraEventRegistry } from '@tessera/contracts';
import { devicesDecider } from '@tessera/device-domain';
import { CommandHandler, EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition, baseConfigSchema, currentCorrelationId } from '@tessera/platform';
import { type TestService, eventually, readTopic, startTestService, uniqueName } from '@tessera/testing';
import { uuidv7 } from '@tessera/util';
import type { Kafka, Producer } from 'kafkajs';
import type { AuditRecordView } from '../records/record.view';
import { type AuditTestBed, envelope, startAuditTestBed } from '../test/audit-test-bed.kit.spec';

/**
 * Ingest against the real Kafka and PostgreSQL (issue 7.1, 7.6): events produced on tessera.* topics
 * become chained audit records, duplicates give one record, malformed messages go to the dead-letter
 * topic and the consumer carries on, and checkpoints reach the separate sink.
 */

/** A stand-in for device-registry's command path: the real device decider, event store and outbox. */
@Controller('v1/devices')
class DeviceCommandsController {
  constructor(@Inject(CommandHandler) private readonly commands: CommandHandler) {}

  @Post()
  async register(@Body() body: { userId: string; deviceId: string; name: string }) {
    const now = new Date();
    await this.commands.handle(
      devicesDecider,
      { type: 'RegisterDevice', data: { userId: body.userId, deviceId: body.deviceId, kind: 'phone', name: body.name, credentials: [], aaguid: null }, metadata: { now } },
      { streamId: `devices-${body.userId}`, partitionKey: body.userId, now, metadata: { actor: { kind: 'user', id: body.userId }, correlationId: currentCorrelationId() ?? uuidv7() } },
    );
    return { ok: true };
  }
}

function deviceService(topic: string): ServiceDefinition<typeof baseConfigSchema> {
  @Module({})
  class DeviceStandInModule {
    static register(resources: PlatformResources): DynamicModule {
      return {
        module: DeviceStandInModule,
        imports: [PlatformModule.register(resources), EventSourcingModule.forService({ topic, registry: tesseraEventRegistry() })],
        controllers: [DeviceCommandsController],
      };
    }
  }
  return {
    name: uniqueName('device-stand-in'),
    description: 'test stand-in',
    version: '0',
    configSchema: baseConfigSchema,
    entities: [],
    migrations: [...EVENT_STORE_MIGRATIONS],
    rootModule: (resources) => DeviceStandInModule.register(resources),
  };
}

describe('audit ingest from every tessera topic (real Kafka and PostgreSQL)', () => {
  let bed: AuditTestBed;
  let producer: Producer;
  let auditor: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    bed = await startAuditTestBed({ AUDIT_CHECKPOINT_EVERY: '5', LOG_LEVEL: 'debug' }, undefined, logLines);
    producer = bed.kafka.producer();
    await producer.connect();
    auditor = await bed.audit.token('auditor-1', ['auditor']);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await bed?.stop();
  });

  const send = (topic: string, key: string, value: string | object) => producer.send({ topic, messages: [{ key, value: typeof value === 'string' ? value : JSON.stringify(value) }] });
  const byCorrelation = async (correlationId: string): Promise<AuditRecordView[]> => (await bed.audit.request('GET', `/v1/audit/records?correlationId=${encodeURIComponent(correlationId)}`, { token: auditor })).body.records;

  it('R8: an event on a topic becomes a chained record of who, what, on whom, when, why, outcome and correlation', async () => {
    const event = envelope(
      'RecoveryRequested',
      {
        recoveryId: 'rec-ingest-1',
        userId: 'user-ingest-1',
        kind: 'assisted',
        requestedBy: { kind: 'helpdesk', id: 'helpdesk-7', ticketReference: 'HD-4242' },
        requestedAt: new Date().toISOString(),
        riskSignals: ['new-device'],
        privileged: false,
        policyVersion: '2025.1',
        requiredApprovals: 2,
        evidenceDueBy: new Date(Date.now() + 86_400_000).toISOString(),
        lostFactorIds: [],
        onCallPageRequired: false,
        postIncidentReviewRequired: false,
        forcedByIncidentId: null,
        drillId: null,
      },
      { kind: 'helpdesk', id: 'helpdesk-7' },
    );
    await send(bed.topics.recovery, 'user-ingest-1', event);
    await eventually(async () => (await byCorrelation(event.correlationId)).length === 1);
    const [record] = await byCorrelation(event.correlationId);
    expect(record).toMatchObject({
      eventId: event.eventId,
      source: bed.topics.recovery,
      eventType: 'RecoveryRequested',
      category: 'recovery',
      outcome: 'pending',
      actor: { kind: 'helpdesk', id: 'helpdesk-7' },
      subject: { userId: 'user-ingest-1' },
      ticket: 'HD-4242',
      correlationId: event.correlationId,
      occurredAt: event.occurredAt,
      details: { recoveryId: 'rec-ingest-1', requiredApprovals: 2, policyVersion: '2025.1' },
    });
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    // The subject's id is sealed at rest: the row holds only ciphertext and a random pseudonym.
    const [row] = await bed.audit.service.resources.dataSource.query(`SELECT subject_ref, personal::text AS personal FROM audit_records WHERE event_id = $1`, [event.eventId]);
    expect(row.personal).not.toContain('user-ingest-1');
    expect(row.subject_ref).toBe(record.subject?.ref);
    expect(row.subject_ref).not.toContain('user-ingest-1');
  });

  it('R8: from a command in another service (event store, outbox relay, Kafka) to an audit record with its correlation id', async () => {
    let devices: TestService<typeof baseConfigSchema> | undefined;
    try {
      devices = await startTestService(deviceService(bed.topics.devices));
      const correlationId = uniqueName('cross-service');
      const userId = uniqueName('user');
      const answer = await devices.request('POST', '/v1/devices', { token: await devices.token(userId), body: { userId, deviceId: uuidv7(), name: 'Work phone' }, headers: { 'x-correlation-id': correlationId } });
      expect(answer.status).toBe(201);
      await eventually(async () => (await byCorrelation(correlationId)).length === 1);
      const [record] = await byCorrelation(correlationId);
      expect(record).toMatchObject({ eventType: 'DeviceRegistered', source: bed.topics.devices, actor: { kind: 'user', id: userId }, subject: { userId }, personal: { fields: { name: 'Work phone' } } });
      // The user's own view of it.
      const history = await bed.audit.request('GET', `/v1/users/${userId}/security-history`, { token: await bed.audit.token(userId) });
      expect(history.body.items).toEqual([expect.objectContaining({ title: 'New device added', by: 'you', deviceName: 'Work phone' })]);
    } finally {
      await devices?.stop();
    }
  });

  it('R1: duplicate deliveries of an event (separately and within one batch) give one record', async () => {
    const event = envelope('TotpConfirmed', { userId: 'user-dup', credentialId: uuidv7(), acceptedTimeStep: 1234567 }, { kind: 'user', id: 'user-dup' });
    await send(bed.topics.auth, 'user-dup', event);
    await producer.send({ topic: bed.topics.auth, messages: [0, 1, 2].map(() => ({ key: 'user-dup', value: JSON.stringify(event) })) });
    const marker = envelope('TotpConfirmed', { userId: 'user-dup', credentialId: uuidv7(), acceptedTimeStep: 1234567 }, { kind: 'user', id: 'user-dup' }, { correlationId: event.correlationId });
    await send(bed.topics.auth, 'user-dup', marker);
    // The marker is behind the duplicates on the same partition: once it is in, so is everything before it.
    await eventually(async () => (await byCorrelation(event.correlationId)).some((record) => record.eventId === marker.eventId));
    const records = await byCorrelation(event.correlationId);
    expect(records.map((record) => record.eventId).sort()).toEqual([event.eventId, marker.eventId].sort());
  });

  it('R6: malformed messages go to the dead-letter topic with their reason, and the consumer carries on', async () => {
    const tag = uniqueName('dlq');
    await send(bed.topics.auth, tag, '{not json');
    await send(bed.topics.auth, tag, { hello: 'not an envelope' });
    // A known type whose data breaks its contract (an extra field, here one that would carry a secret).
    await send(bed.topics.auth, tag, envelope('TotpConfirmed', { userId: 'user-dlq', credentialId: uuidv7(), acceptedTimeStep: 1234567, secret: 'JBSWY3DPEHPK3PXP' }, { kind: 'user', id: 'user-dlq' }));
    const good = envelope('TotpConfirmed', { userId: 'user-dlq', credentialId: uuidv7(), acceptedTimeStep: 1234567 }, { kind: 'user', id: 'user-dlq' });
    await send(bed.topics.auth, tag, good);
    await eventually(async () => (await byCorrelation(good.correlationId)).length === 1);

    const dead = await readDeadLetters(bed.kafka, bed.topics.auth, 3);
    expect(dead.map((message) => message.headers['dead-letter-reason'].split(':')[0]).sort()).toEqual(['invalid_event_data', 'malformed_envelope', 'malformed_json']);
    const rows = await bed.audit.service.resources.dataSource.query(`SELECT count(*)::int AS n FROM audit_records WHERE correlation_id <> $1 AND details::text LIKE '%JBSWY3DPEHPK3PXP%'`, [good.correlationId]);
    expect(rows[0].n).toBe(0);
  });

  it('S29: an event type no contract declares is recorded as category other, without any of its data', async () => {
    const event = envelope('SessionPinged', { userId: 'user-unknown', token: 'tok_live_4242', note: 'free text' }, { kind: 'service', id: 'some-service' });
    await send(bed.topics.auth, 'user-unknown', event);
    await eventually(async () => (await byCorrelation(event.correlationId)).length === 1);
    const [record] = await byCorrelation(event.correlationId);
    expect(record).toMatchObject({ eventType: 'SessionPinged', category: 'other', outcome: 'info', details: {} });
    const dump = await bed.audit.service.resources.dataSource.query(`SELECT string_agg(t::text, '') AS text FROM audit_records t`);
    expect(dump[0].text).not.toContain('tok_live_4242');
  });

  it('R8: checkpoints are signed every N records, exported to the separate sink, and the log verifies against both', async () => {
    const userId = uniqueName('user');
    const correlationId = uniqueName('burst');
    for (let i = 0; i < 6; i++) {
      await send(bed.topics.devices, userId, envelope('DeviceRenamed', { userId, deviceId: uuidv7(), name: `Phone ${i}`, previousName: `Phone ${i - 1}` }, { kind: 'user', id: userId }, { correlationId }));
    }
    await eventually(async () => (await byCorrelation(correlationId)).length === 6);
    const [head] = await bed.audit.service.resources.dataSource.query(`SELECT position::int, last_checkpoint_position::int AS checkpointed FROM audit_chain_head`);
    expect(head.checkpointed).toBe(Math.floor(head.position / 5) * 5);

    const published = await readTopic(bed.kafka, bed.topics.checkpoints, head.checkpointed / 5, 30_000);
    const checkpoints = published.map((message) => JSON.parse(String(message.value)));
    expect(checkpoints.map((checkpoint) => checkpoint.toPosition).sort((a, b) => a - b)).toEqual(Array.from({ length: head.checkpointed / 5 }, (_, i) => (i + 1) * 5));
    expect(checkpoints[0]).toMatchObject({ keyId: 'dev-insecure', signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) });

    const verified = await bed.audit.request('POST', '/v1/audit/verify', { token: auditor, body: { includeSink: true } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ ok: true, firstPosition: 1, checkpointSources: { sink: head.checkpointed / 5, sinkMalformed: 0 } });
    expect(verified.body.lastPosition).toBeGreaterThanOrEqual(head.position);
  });

  it('S29/S30: the logs of everything above hold no secret, key material or personal field values', async () => {
    const { createHash } = await import('node:crypto');
    const developmentKeys = ['checkpoint-key', 'data-key-encryption-key'].map((label) => createHash('sha256').update(`tessera.audit.development-only.${label}`).digest('base64'));
    expect(logLines.length).toBeGreaterThan(20);
    const text = logLines.join('\n');
    for (const secret of ['JBSWY3DPEHPK3PXP', 'tok_live_4242', ...developmentKeys]) expect(text).not.toContain(secret);
    for (const personal of ['Work phone', 'free text']) expect(text).not.toContain(personal);
    expect((await bed.audit.request('GET', '/metrics')).body).toMatch(/audit_records_appended_total\{[^}]*\} [1-9]/);
  });
});

/** Reads the shared dead-letter topic from the start for messages that came from `sourceTopic`. */
async function readDeadLetters(kafka: Kafka, sourceTopic: string, count: number) {
  const found: { headers: Record<string, string> }[] = [];
  await eventually(
    async () => {
      found.length = 0;
      const all = await readTopic(kafka, TOPICS.deadLetter, Number.MAX_SAFE_INTEGER, 3_000);
      found.push(...all.filter((message) => message.headers['dead-letter-source-topic'] === sourceTopic));
      return found.length >= count;
    },
    60_000,
    500,
  );
  return found;
}
