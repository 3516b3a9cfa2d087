import { DedicatedKafka, type TestDatabase, createTestDatabase, createTopics, eventually, testKafka, uniqueName } from '@tessera/testing';
import type { Kafka, Producer } from 'kafkajs';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { counterDecider, counterRegistry, metadata, openTestDataSource } from '../test/counter';
import { CommandHandler } from './command-handler';
import { PostgresEventStore } from './event-store';
import { IdempotentConsumer } from './idempotent-consumer';
import { OutboxRelay } from './outbox-relay';

const logger = pino({ level: 'silent' });

// This file stops and starts a broker of its own; on a loaded CI machine a JVM start can take minutes.
jest.setTimeout(300_000);

describe('through a Kafka outage', () => {
  const broker = new DedicatedKafka(1);
  let database: TestDatabase;
  let dataSource: DataSource;
  let kafka: Kafka;
  let producer: Producer;
  let relay: OutboxRelay;
  let consumer: IdempotentConsumer;

  beforeAll(async () => {
    await broker.start();
    database = await createTestDatabase('outage');
    dataSource = await openTestDataSource(database.url);
    await dataSource.query(`CREATE TABLE totals (user_id TEXT PRIMARY KEY, total INT NOT NULL)`);
    await dataSource.query(`CREATE TABLE applications (event_id UUID NOT NULL)`);
    kafka = testKafka('outage-test', broker.brokers);
  }, 300_000);

  afterAll(async () => {
    await consumer?.stop().catch(() => undefined);
    await relay?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await dataSource?.destroy();
    await database?.drop();
    await broker.destroy();
  });

  it('R2: commands keep succeeding while Kafka is down; afterwards every event arrives and each effect happens once', async () => {
    const topic = uniqueName('test.outage');
    const deadLetterTopic = uniqueName('test.outage-dead-letter');
    await createTopics(kafka, [topic, deadLetterTopic]);
    const store = new PostgresEventStore(dataSource, counterRegistry());
    const handler = new CommandHandler(store);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    relay = new OutboxRelay({ dataSource, producer, topic, relayName: 'outage-relay', logger, idlePollMs: 20, maxBackoffMs: 1_000 });
    relay.start();
    consumer = new IdempotentConsumer({
      kafka, dataSource, registry: counterRegistry(), groupId: 'outage-group', topics: [topic], deadLetterTopic, logger,
      handler: async (event, manager) => {
        const { userId, by } = event.data as { userId: string; by: number };
        await manager.query(`INSERT INTO applications (event_id) VALUES ($1)`, [event.eventId]);
        await manager.query(`INSERT INTO totals (user_id, total) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET total = totals.total + EXCLUDED.total`, [userId, by]);
      },
    });
    await consumer.start();

    const increment = (userId: string) =>
      handler.handle(counterDecider, { type: 'Increment', userId, by: 1 }, { streamId: `counter-${userId}`, partitionKey: userId, metadata, now: new Date() });
    const users = ['u1', 'u2', 'u3', 'u4'];
    const sum = async () => Number((await dataSource.query(`SELECT coalesce(sum(total), 0) AS s FROM totals`))[0].s);

    for (let i = 0; i < 20; i++) await increment(users[i % 4]);
    await eventually(async () => (await sum()) === 20, 60_000);

    await broker.stop();
    for (let i = 0; i < 40; i++) await increment(users[i % 4]); // the database alone is enough to accept commands
    expect(await sum()).toBe(20);

    await broker.start();
    await eventually(async () => (await sum()) === 60, 120_000, 250);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await sum()).toBe(60);
    const [{ applied, distinct }] = await dataSource.query(`SELECT count(*)::int AS applied, count(DISTINCT event_id)::int AS distinct FROM applications`);
    expect({ applied, distinct }).toEqual({ applied: 60, distinct: 60 });
    for (const user of users) expect((await dataSource.query(`SELECT total FROM totals WHERE user_id = $1`, [user]))[0].total).toBe(15);
  });
});
