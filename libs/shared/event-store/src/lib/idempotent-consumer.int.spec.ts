import { type TestDatabase, createTestDatabase, createTopics, eventually, readTopic, testKafka, uniqueName } from '@tessera/testing';
import { uuidv7 } from '@tessera/util';
import type { Kafka, Producer } from 'kafkajs';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { counterRegistry, openTestDataSource } from '../test/counter';
import { type EventHandler, IdempotentConsumer, PermanentEventError } from './idempotent-consumer';

const logger = pino({ level: 'silent' });

function envelope(userId: string, by: number, eventId = uuidv7()) {
  return {
    eventId,
    type: 'CounterIncremented',
    version: 1,
    streamId: `counter-${userId}`,
    occurredAt: new Date().toISOString(),
    actor: { kind: 'user', id: userId },
    correlationId: 'test',
    causationId: null,
    data: { userId, by },
  };
}

describe('idempotent consumer', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let producer: Producer;
  const consumers: IdempotentConsumer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('consumer');
    dataSource = await openTestDataSource(database.url);
    // The effect is a running total: applying an event twice would show as a wrong sum.
    await dataSource.query(`CREATE TABLE totals (user_id TEXT PRIMARY KEY, total INT NOT NULL)`);
    kafka = testKafka('consumer-test');
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await producer?.disconnect();
    await dataSource?.destroy();
    await database?.drop();
  });

  const addToTotal: EventHandler = async (event, manager) => {
    const { userId, by } = event.data as { userId: string; by: number };
    await manager.query(
      `INSERT INTO totals (user_id, total) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET total = totals.total + EXCLUDED.total`,
      [userId, by],
    );
  };

  async function startConsumer(handler: EventHandler) {
    const topic = uniqueName('test.consumer');
    const deadLetterTopic = uniqueName('test.dead-letter');
    await createTopics(kafka, [topic, deadLetterTopic]);
    const consumer = new IdempotentConsumer({ kafka, dataSource, registry: counterRegistry(), groupId: uniqueName('group'), topics: [topic], deadLetterTopic, handler, logger });
    consumers.push(consumer);
    await consumer.start();
    return { topic, deadLetterTopic };
  }

  const total = async (userId: string): Promise<number | undefined> => (await dataSource.query(`SELECT total FROM totals WHERE user_id = $1`, [userId]))[0]?.total;

  it('R1: a duplicate delivery of an event has its effect once', async () => {
    const { topic } = await startConsumer(addToTotal);
    const event = envelope('dup-user', 7);
    await producer.send({ topic, messages: [{ key: 'dup-user', value: JSON.stringify(event) }] });
    await producer.send({ topic, messages: [{ key: 'dup-user', value: JSON.stringify(event) }, { key: 'dup-user', value: JSON.stringify(event) }] });
    await producer.send({ topic, messages: [{ key: 'dup-user', value: JSON.stringify(envelope('dup-user', 1)) }] });
    await eventually(async () => (await total('dup-user')) === 8);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await total('dup-user')).toBe(8);
  });

  it('R6: a malformed message goes to the dead-letter topic with its reason and original bytes, and the consumer carries on', async () => {
    const { topic, deadLetterTopic } = await startConsumer(addToTotal);
    const garbage = Buffer.from([0xff, 0x00, 0x7b, 0x62, 0x61, 0x64]);
    const notAnEnvelope = JSON.stringify({ hello: 'world' });
    const breaksContract = JSON.stringify({ ...envelope('r6-user', 1), data: { userId: 'r6-user', by: 'one' } });
    const unknownType = JSON.stringify({ ...envelope('r6-user', 1), type: 'SomethingElseHappened' });
    await producer.send({
      topic,
      messages: [
        { key: 'r6-user', value: garbage },
        { key: 'r6-user', value: notAnEnvelope },
        { key: 'r6-user', value: breaksContract },
        { key: 'r6-user', value: unknownType },
        { key: 'r6-user', value: JSON.stringify(envelope('r6-user', 5)) },
      ],
    });
    await eventually(async () => (await total('r6-user')) === 5);

    const dead = await readTopic(kafka, deadLetterTopic, 4);
    expect(dead).toHaveLength(4);
    expect(dead[0].value?.equals(garbage)).toBe(true);
    expect(dead.map((message) => message.headers['dead-letter-reason'].split(':')[0])).toEqual(['malformed_json', 'malformed_envelope', 'invalid_event_data', 'unknown_event_type']);
    expect(dead[0].headers['dead-letter-source-topic']).toBe(topic);
    expect(dead[2].value?.toString()).toBe(breaksContract);
  });

  it('R6: an event its handler can never process is dead-lettered; the rest of the batch still applies once', async () => {
    const handler: EventHandler = async (event, manager, from) => {
      if ((event.data as { by: number }).by === 13) throw new PermanentEventError('13 is refused');
      await addToTotal(event, manager, from);
    };
    const { topic, deadLetterTopic } = await startConsumer(handler);
    await producer.send({
      topic,
      messages: [1, 13, 2].map((by) => ({ key: 'perm-user', value: JSON.stringify(envelope('perm-user', by)) })),
    });
    await eventually(async () => (await total('perm-user')) === 3);
    const dead = await readTopic(kafka, deadLetterTopic, 1);
    expect(JSON.parse(String(dead[0].value)).data.by).toBe(13);
    expect(dead[0].headers['dead-letter-reason']).toContain('13 is refused');
  });

  it('a transient failure is retried until it succeeds, and applied exactly once (nothing lost)', async () => {
    let failuresLeft = 3;
    const flaky: EventHandler = async (event, manager, from) => {
      if (failuresLeft-- > 0) throw new Error('database briefly unavailable');
      await addToTotal(event, manager, from);
    };
    const { topic } = await startConsumer(flaky);
    await producer.send({ topic, messages: [{ key: 'flaky-user', value: JSON.stringify(envelope('flaky-user', 4)) }] });
    await eventually(async () => (await total('flaky-user')) === 4, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await total('flaky-user')).toBe(4);
  });

  it('commits its offsets after each batch: a restart does not read the topic again', async () => {
    const topic = uniqueName('test.consumer');
    const deadLetterTopic = uniqueName('test.dead-letter');
    await createTopics(kafka, [topic, deadLetterTopic]);
    const groupId = uniqueName('group');
    const consumer = new IdempotentConsumer({ kafka, dataSource, registry: counterRegistry(), groupId, topics: [topic], deadLetterTopic, handler: addToTotal, logger });
    consumers.push(consumer);
    await consumer.start();
    await producer.send({ topic, messages: Array.from({ length: 5 }, () => ({ key: 'restart-user', value: JSON.stringify(envelope('restart-user', 1)) })) });
    await eventually(async () => (await total('restart-user')) === 5, 60_000);
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The group's committed offsets (what a restarted consumer resumes from) reach the end of the topic.
      await eventually(async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return committed.partitions.reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0) === 5;
      }, 30_000);
    } finally {
      await admin.disconnect();
    }
  });
});
