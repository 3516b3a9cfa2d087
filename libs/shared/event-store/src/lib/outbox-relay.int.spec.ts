import { type TestDatabase, createTestDatabase, createTopics, readTopic, testKafka, uniqueName } from '@tessera/testing';
import type { Kafka, Producer } from 'kafkajs';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { counterDecider, counterRegistry, metadata, openTestDataSource } from '../test/counter';
import { CommandHandler } from './command-handler';
import { PostgresEventStore } from './event-store';
import { OutboxRelay } from './outbox-relay';

const logger = pino({ level: 'silent' });

/**
 * Publishes until `expected` events went out. The relay waits for every transaction older than the
 * cluster's oldest running one, and other tests' transactions run on the same PostgreSQL, so a single
 * pass may publish nothing yet; it must never publish more than expected.
 */
async function publishUntil(relay: OutboxRelay, expected: number, timeoutMs = 20_000): Promise<number> {
  let total = 0;
  const deadline = Date.now() + timeoutMs;
  while (total < expected && Date.now() < deadline) {
    total += await relay.publishPending();
    if (total < expected) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return total;
}

describe('outbox relay', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    kafka = testKafka('outbox-test');
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  // Each test gets its own database, so one test's events never reach another's topic.
  beforeEach(async () => {
    database = await createTestDatabase('outbox');
    dataSource = await openTestDataSource(database.url);
    store = new PostgresEventStore(dataSource, counterRegistry());
  });

  afterEach(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  const increment = (userId: string, by = 1) =>
    new CommandHandler(store).handle(counterDecider, { type: 'Increment', userId, by }, { streamId: `counter-${userId}`, partitionKey: userId, metadata, now: new Date() });

  async function freshTopic(): Promise<string> {
    const topic = uniqueName('test.outbox');
    await createTopics(kafka, [topic]);
    return topic;
  }

  it('R1: publishes committed events keyed by user id, in stream order, and never a rolled-back one', async () => {
    const topic = await freshTopic();
    await increment('alice', 1);
    await increment('alice', 2);
    await increment('bob', 5);
    await expect(
      store.transaction(async (manager) => {
        await store.append(manager, 'counter-carol', 0, [{ type: 'CounterIncremented', data: { userId: 'carol', by: 9 } }], { partitionKey: 'carol', metadata, now: new Date() });
        throw new Error('the command failed after appending');
      }),
    ).rejects.toThrow('the command failed');

    const relay = new OutboxRelay({ dataSource, producer, topic, relayName: uniqueName('relay'), logger });
    expect(await publishUntil(relay, 3)).toBe(3);
    expect(await relay.publishPending()).toBe(0);
    await relay.stop();

    const messages = await readTopic(kafka, topic, 3);
    expect(messages).toHaveLength(3);
    const alice = messages.filter((message) => message.key === 'alice').map((message) => JSON.parse(String(message.value)));
    expect(alice.map((envelope) => envelope.data.by)).toEqual([1, 2]);
    expect(messages.some((message) => message.key === 'carol')).toBe(false);
    expect(new Set(messages.filter((m) => m.key === 'alice').map((m) => m.partition)).size).toBe(1);
    expect(messages[0].headers['event-type']).toBe('CounterIncremented');
  });

  it('R1: never skips a transaction that commits after a later position was already visible', async () => {
    const topic = await freshTopic();
    const relay = new OutboxRelay({ dataSource, producer, topic, relayName: uniqueName('relay'), logger });

    // A slow transaction takes its BIGSERIAL position first and commits last.
    const slow = dataSource.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    await store.append(slow.manager, 'counter-slow', 0, [{ type: 'CounterIncremented', data: { userId: 'slow', by: 1 } }], { partitionKey: 'slow', metadata, now: new Date() });
    await increment('fast', 1);

    // While the slow one is open, the relay must hold back rather than publish past it.
    expect(await relay.publishPending()).toBe(0);
    await slow.commitTransaction();
    await slow.release();

    expect(await publishUntil(relay, 2)).toBe(2);
    await relay.stop();
    const messages = await readTopic(kafka, topic, 2);
    expect(messages.map((message) => message.key).sort()).toEqual(['fast', 'slow']);
  });

  it('is safe with several instances: one publishes, the other stands by and takes over when it stops', async () => {
    const topic = await freshTopic();
    const relayName = uniqueName('relay');
    const first = new OutboxRelay({ dataSource, producer, topic, relayName, logger, idlePollMs: 20 });
    const second = new OutboxRelay({ dataSource, producer, topic, relayName, logger, idlePollMs: 20 });
    first.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    second.start();
    for (let i = 0; i < 20; i++) await increment(`user-${i % 4}`, 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await first.stop();
    for (let i = 0; i < 10; i++) await increment(`late-${i % 2}`, 1);

    const messages = await readTopic(kafka, topic, 30, 20_000);
    await second.stop();
    const ids = messages.map((message) => JSON.parse(String(message.value)).eventId);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
  });

  it('R1: a relay that dies between publishing and marking publishes the batch again (consumers dedupe it)', async () => {
    const topic = await freshTopic();
    const relayName = uniqueName('relay');
    await increment('dave', 1);
    await increment('dave', 2);

    // The send reaches Kafka, then the process "dies" before the checkpoint is written.
    const crashing = {
      // The relay connects its producer before publishing; this one wraps a producer already connected.
      connect: async () => undefined,
      send: async (record: Parameters<Producer['send']>[0]) => {
        await producer.send(record);
        throw new Error('killed after publishing');
      },
    } as unknown as Producer;
    const doomed = new OutboxRelay({ dataSource, producer: crashing, topic, relayName, logger });
    await expect(publishUntil(doomed, 2)).rejects.toThrow('killed after publishing');
    await doomed.stop();

    const restarted = new OutboxRelay({ dataSource, producer, topic, relayName, logger });
    expect(await publishUntil(restarted, 2)).toBe(2);
    await restarted.stop();

    const messages = await readTopic(kafka, topic, 4);
    const ids = messages.map((message) => JSON.parse(String(message.value)).eventId);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(2);
  });
});
