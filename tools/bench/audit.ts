/**
 * npm run bench:audit — the audit service on the real local PostgreSQL and Kafka
 * (start them first: infra/local/platform infra).
 *
 * 1. Builds a log of RECORDS (default 1,000,000) chained records with the service's own appender
 *    (map, seal personal fields under per-user keys, hash, sign a checkpoint every 1,000), in
 *    batches of BULK_BATCH events per transaction: the same code path as ingestion, without Kafka.
 * 2. Sustained ingest with chaining: INGEST_EVENTS (default 100,000) contract events are waiting
 *    on the service's three topics (6 partitions each); the service starts and its idempotent
 *    consumer drains them onto the million-record chain. Rate = events / (last append − first append).
 * 3. After VACUUM (ANALYZE), as autovacuum would do after such a load: verification of the whole log
 *    through POST /v1/audit/verify; seconds per million records.
 * 4. One user's security history at that size: HISTORY_QUERIES sequential
 *    GET /v1/users/{userId}/security-history over HTTP (JWT check included) for random users.
 *
 * Prints its figures; the last line is one JSON object.
 */
import 'reflect-metadata';
import { createTestDatabase, createTopics, startTestService, testKafka, uniqueName, type TestDatabase, type TestService } from '@tessera/testing';
import { ChainAppender } from '../../apps/audit-service/src/chain/chain-appender.service';
import { AuditServiceDefinition, type auditServiceConfigSchema } from '../../apps/audit-service/src/service';
import { syntheticEvent, syntheticUser } from '../../apps/audit-service/src/test/synthetic-events';
import { round, summarise } from './stats';

const RECORDS = Number(process.env.RECORDS ?? 1_000_000);
const INGEST_EVENTS = Number(process.env.INGEST_EVENTS ?? 100_000);
const USERS = Number(process.env.USERS ?? 10_000);
const BULK_BATCH = Number(process.env.BULK_BATCH ?? 5_000);
const HISTORY_QUERIES = Number(process.env.HISTORY_QUERIES ?? 1_000);
const PRODUCE_BATCH = 1_000;

type AuditService = TestService<typeof auditServiceConfigSchema>;

const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);

async function main(): Promise<void> {
  const kafka = testKafka(uniqueName('bench-audit'));
  const topics = { auth: uniqueName('tessera.bench-auth'), devices: uniqueName('tessera.bench-devices'), recovery: uniqueName('tessera.bench-recovery') };
  const checkpointTopic = uniqueName('tessera.bench-audit-checkpoints');
  await createTopics(kafka, Object.values(topics), 6);
  await createTopics(kafka, [checkpointTopic], 1);
  const database = await createTestDatabase('bench_audit');
  const env = (ingestTopics: string[]) => ({
    AUDIT_INGEST_TOPICS: ingestTopics.join(','),
    AUDIT_CHECKPOINT_TOPIC: checkpointTopic,
    AUDIT_CHECKPOINT_EVERY: '1000',
    AUDIT_RETENTION_INTERVAL_MS: '0',
    DATABASE_POOL_SIZE: '20',
    LOG_LEVEL: 'warn',
  });
  try {
    // 1. The million-record log. This instance listens to an empty topic of its own.
    const quiet = uniqueName('tessera.bench-quiet');
    await createTopics(kafka, [quiet], 1);
    let audit = await start(database, env([quiet]));
    const bulk = await bulkAppend(audit);
    await audit.stop();

    // 2. The backlog, then a fresh instance (a new consumer group) drains it onto the chain.
    await produceBacklog(kafka, topics);
    const ingestStarted = performance.now();
    audit = await start(database, env(Object.values(topics)));
    try {
      const ingest = await drain(audit, RECORDS + INGEST_EVENTS, ingestStarted);
      // Steady state: what autovacuum does after a bulk load anyway, done now so it does not run
      // underneath the measurements.
      await audit.service.resources.dataSource.query('VACUUM (ANALYZE) audit_records');
      const verify = await verifyAll(audit);
      const history = await historyLatency(audit);
      const figures = {
        bench: 'audit',
        ingest_per_s: ingest.perSecond,
        verify_s_per_million: verify.secondsPerMillion,
        history_p99_ms: history.p99,
        history_p50_ms: history.p50,
        bulk_append_per_s: bulk.perSecond,
        records: verify.records,
        ingest_events: INGEST_EVENTS,
        users: USERS,
        verify_s: verify.seconds,
      };
      console.log(`bulk append with chaining: ${RECORDS.toLocaleString('en')} records in ${bulk.seconds} s (${bulk.perSecond.toLocaleString('en')}/s)`);
      console.log(`ingest through Kafka with chaining: ${INGEST_EVENTS.toLocaleString('en')} events in ${ingest.seconds} s (${ingest.perSecond.toLocaleString('en')}/s; first record ${ingest.startupSeconds} s after start)`);
      console.log(`verify: ${verify.records.toLocaleString('en')} records, ${verify.checkpoints} checkpoints in ${verify.seconds} s (${verify.secondsPerMillion} s per million)`);
      console.log(`security history at ${verify.records.toLocaleString('en')} records: p50 ${history.p50} ms, p99 ${history.p99} ms, max ${history.max} ms over ${history.count} queries`);
      console.log(JSON.stringify(figures));
    } finally {
      await audit.stop();
    }
  } finally {
    await database.drop();
  }
}

function start(database: TestDatabase, env: Record<string, string>): Promise<AuditService> {
  return startTestService({ ...AuditServiceDefinition, name: uniqueName('audit-bench') }, { database, env });
}

async function bulkAppend(audit: AuditService) {
  const appender = audit.service.app.get(ChainAppender);
  const dataSource = audit.service.resources.dataSource;
  const started = performance.now();
  for (let from = 1; from <= RECORDS; from += BULK_BATCH) {
    const events = Array.from({ length: Math.min(BULK_BATCH, RECORDS - from + 1) }, (_, i) => syntheticEvent(from + i, { users: USERS }));
    await dataSource.transaction((manager) => appender.append(manager, events));
    if ((from - 1) % 100_000 === 0) log(`bulk: ${from - 1} records`);
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds: round(seconds, 1), perSecond: Math.round(RECORDS / seconds) };
}

async function produceBacklog(kafka: ReturnType<typeof testKafka>, topics: { auth: string; devices: string; recovery: string }) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let from = 0; from < INGEST_EVENTS; from += PRODUCE_BATCH) {
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (let i = from; i < Math.min(from + PRODUCE_BATCH, INGEST_EVENTS); i++) {
        // Numbered after the bulk log so event ids never collide with it.
        const { event, source } = syntheticEvent(RECORDS + 1 + i, { users: USERS, topics });
        const messages = byTopic.get(source) ?? [];
        messages.push({ key: String(event.data['userId'] ?? event.actor.id), value: JSON.stringify(event) });
        byTopic.set(source, messages);
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
  } finally {
    await producer.disconnect();
  }
  log(`backlog: ${INGEST_EVENTS} events on ${Object.values(topics).length} topics`);
}

/** Polls the chain head; the rate runs from the first event of the backlog appended to the last. */
async function drain(audit: AuditService, target: number, startedAt: number) {
  const dataSource = audit.service.resources.dataSource;
  const head = async () => Number((await dataSource.query(`SELECT position::text FROM audit_chain_head`))[0].position);
  let first: number | null = null;
  let firstPosition = 0;
  let position = await head();
  const deadline = performance.now() + 30 * 60_000;
  while (position < target) {
    if (performance.now() > deadline) throw new Error(`ingest stalled at ${position} of ${target}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = await head();
    if (first === null && now > RECORDS) {
      first = performance.now();
      firstPosition = now;
    }
    position = now;
  }
  const last = performance.now();
  const ingested = position - firstPosition;
  const seconds = (last - (first ?? last)) / 1000;
  log(`ingest: ${position - RECORDS} events`);
  return { seconds: round(seconds, 1), perSecond: Math.round(ingested / seconds), startupSeconds: round(((first ?? last) - startedAt) / 1000, 1) };
}

async function verifyAll(audit: AuditService) {
  const token = await audit.token('bench-auditor', ['auditor']);
  const started = performance.now();
  const answer = await audit.request('POST', '/v1/audit/verify', { token, body: {} });
  const seconds = (performance.now() - started) / 1000;
  if (answer.status !== 200 || answer.body.ok !== true) throw new Error(`verification failed: ${JSON.stringify(answer.body)}`);
  const records = answer.body.recordCount as number;
  return { seconds: round(seconds, 1), secondsPerMillion: round(seconds / (records / 1_000_000), 1), records, checkpoints: answer.body.checkpointsVerified as number };
}

async function historyLatency(audit: AuditService) {
  const users = Array.from({ length: Math.min(HISTORY_QUERIES, 200) }, (_, i) => syntheticUser(7 + i * 7_919, USERS));
  const tokens = new Map(await Promise.all(users.map(async (user) => [user, await audit.token(user)] as const)));
  const query = async (user: string) => {
    const started = performance.now();
    const answer = await audit.request('GET', `/v1/users/${user}/security-history?limit=20`, { token: tokens.get(user) });
    const ms = performance.now() - started;
    if (answer.status !== 200 || answer.body.items.length === 0) throw new Error(`history of ${user}: ${answer.status}`);
    return ms;
  };
  for (const user of users.slice(0, 20)) await query(user); // warm-up: connections, plans
  const samples: number[] = [];
  for (let i = 0; i < HISTORY_QUERIES; i++) samples.push(await query(users[i % users.length]));
  const summary = summarise(samples);
  return { count: summary.count, p50: round(summary.p50), p99: round(summary.p99), max: round(summary.max) };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
