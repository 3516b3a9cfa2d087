/**
 * npm run bench:events — the event backbone on the real local PostgreSQL and Kafka
 * (start them first: infra/local/platform infra).
 *
 * 1. Appends: 16 concurrent writers, each appending single events to its own stream (a user's
 *    stream) as fast as it can for APPEND_SECONDS; appends/s and per-append latency percentiles.
 * 2. End to end: writers append at a fixed offered rate (E2E_RATE events/s, open loop) for
 *    E2E_SECONDS while the outbox relay publishes to Kafka and an idempotent consumer applies each
 *    event in a PostgreSQL transaction; delivered events/s and lag (consumer apply time − event time).
 *
 * Prints its figures; the last line is one JSON object.
 */
import { EventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, IdempotentConsumer, OutboxRelay, PostgresEventStore } from '@tessera/event-store';
import { createTestDatabase, createTopics, testKafka, uniqueName } from '@tessera/testing';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { round, summarise } from './stats';

const WRITERS = Number(process.env.WRITERS ?? 16);
const APPEND_SECONDS = Number(process.env.APPEND_SECONDS ?? 15);
const E2E_SECONDS = Number(process.env.E2E_SECONDS ?? 60);
const E2E_RATE = Number(process.env.E2E_RATE ?? 5_000);
const logger = pino({ level: 'warn' });
const registry = new EventRegistry().register({ BenchEventRecorded: z.strictObject({ userId: z.string(), n: z.number().int() }) });
const metadata = { actor: { kind: 'system' as const, id: 'bench' }, correlationId: 'bench' };

async function main(): Promise<void> {
  const database = await createTestDatabase('bench_events');
  const dataSource = new DataSource({ type: 'postgres', url: database.url, migrations: [...EVENT_STORE_MIGRATIONS], extra: { max: WRITERS + 8 } });
  await dataSource.initialize();
  await dataSource.runMigrations();
  const store = new PostgresEventStore(dataSource, registry);
  try {
    const appends = await benchAppends(store);
    const e2e = await benchEndToEnd(store, dataSource);
    const figures = {
      bench: 'events',
      writers: WRITERS,
      appends_per_s: appends.perSecond,
      append_p50_ms: appends.p50,
      append_p99_ms: appends.p99,
      e2e_offered_per_s: E2E_RATE,
      e2e_events_per_s: e2e.perSecond,
      e2e_lag_p50_ms: e2e.p50,
      e2e_lag_p99_ms: e2e.p99,
      e2e_seconds: E2E_SECONDS,
    };
    console.log(JSON.stringify(figures));
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
}

/** Each writer owns a stream and knows its version, so every append is one atomic INSERT statement. */
async function benchAppends(store: PostgresEventStore) {
  const latencies: number[] = [];
  let count = 0;
  const run = async (seconds: number, record: boolean) => {
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        const userId = uniqueName(`writer-${writer}`);
        let version = 0;
        while (performance.now() < deadline) {
          const started = performance.now();
          await store.appendNow(`bench-${userId}`, version, [{ type: 'BenchEventRecorded', data: { userId, n: version } }], { partitionKey: userId, metadata, now: new Date() });
          version++;
          if (record) {
            latencies.push(performance.now() - started);
            count++;
          }
        }
      }),
    );
  };
  await run(2, false); // warm-up: connections, plans, JIT
  const started = performance.now();
  await run(APPEND_SECONDS, true);
  const elapsed = (performance.now() - started) / 1000;
  const stats = summarise(latencies);
  const result = { perSecond: round(count / elapsed, 0), p50: round(stats.p50), p99: round(stats.p99) };
  console.log(`appends: ${WRITERS} writers, ${count} appends in ${round(elapsed, 1)} s → ${result.perSecond}/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
  return result;
}

async function benchEndToEnd(store: PostgresEventStore, dataSource: DataSource) {
  const kafka = testKafka('bench-events');
  const topic = uniqueName('bench.events');
  const deadLetterTopic = uniqueName('bench.dead-letter');
  await createTopics(kafka, [topic], 6);
  await createTopics(kafka, [deadLetterTopic], 1);
  await dataSource.query(`CREATE TABLE bench_totals (user_id TEXT PRIMARY KEY, total BIGINT NOT NULL)`);

  // Start the relay at the end of what part 1 wrote, so only this part's events are measured.
  await dataSource.query(
    `INSERT INTO outbox_checkpoints (relay_name, transaction_id, global_position)
     SELECT 'bench', transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const relay = new OutboxRelay({ dataSource, producer, topic, relayName: 'bench', logger, batchSize: 1000, idlePollMs: 20 });

  const lags: number[] = [];
  let delivered = 0;
  let firstAt = 0;
  let lastAt = 0;
  const consumer = new IdempotentConsumer({
    kafka, dataSource, registry, groupId: uniqueName('bench-consumer'), topics: [topic], deadLetterTopic, logger,
    handler: async (event, manager) => {
      const { userId } = event.data as { userId: string };
      await manager.query(`INSERT INTO bench_totals (user_id, total) VALUES ($1, 1) ON CONFLICT (user_id) DO UPDATE SET total = bench_totals.total + 1`, [userId]);
      const now = Date.now();
      lags.push(now - Date.parse(event.occurredAt));
      if (delivered++ === 0) firstAt = now;
      lastAt = now;
    },
  });
  await consumer.start();
  relay.start();

  // Open loop: each writer appends on its own schedule, whatever the rest of the pipeline does.
  const perWriterInterval = (1000 * WRITERS) / E2E_RATE;
  let appended = 0;
  const started = performance.now();
  const deadline = started + E2E_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      const userId = uniqueName(`e2e-${writer}`);
      let version = 0;
      let next = performance.now() + (perWriterInterval * writer) / WRITERS;
      while (next < deadline) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await store.appendNow(`e2e-${userId}`, version, [{ type: 'BenchEventRecorded', data: { userId, n: version } }], { partitionKey: userId, metadata, now: new Date() });
        version++;
        appended++;
        next += perWriterInterval;
      }
    }),
  );
  const appendSeconds = (performance.now() - started) / 1000;
  const drainDeadline = Date.now() + 60_000;
  while (delivered < appended && Date.now() < drainDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await relay.stop();
  await consumer.stop();
  await producer.disconnect();

  const seconds = (lastAt - firstAt) / 1000;
  const stats = summarise(lags);
  const result = { perSecond: round(delivered / seconds, 0), p50: round(stats.p50), p99: round(stats.p99) };
  console.log(
    `end to end: offered ${E2E_RATE}/s, appended ${appended} in ${round(appendSeconds, 1)} s (${round(appended / appendSeconds, 0)}/s), ` +
      `delivered ${delivered} in ${round(seconds, 1)} s → ${result.perSecond}/s; lag p50 ${result.p50} ms, p99 ${result.p99} ms, max ${round(stats.max)} ms`,
  );
  if (delivered !== appended) console.log(`WARNING: ${appended - delivered} events not delivered within the drain window`);
  return result;
}

main().catch((error: unknown) => {
  console.error(`bench:events failed: ${(error as Error).message} (is the platform up? infra/local/platform infra)`);
  process.exit(1);
});
