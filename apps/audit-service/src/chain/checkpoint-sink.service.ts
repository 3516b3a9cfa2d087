import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type SignedCheckpoint, signedCheckpointSchema } from '@tessera/audit-domain';
import { ApiError, DATA_SOURCE, KAFKA, LOGGER } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { AUDIT_SETTINGS } from '../audit.tokens';
import { AuditMetrics } from '../common/audit-metrics.service';
import type { AuditSettings } from '../settings/audit-settings';
import { CHECKPOINT_COLUMNS, type CheckpointRow, toSignedCheckpoint } from './audit-record.rows';
import { ChainAppender } from './chain-appender.service';

const TICK_MS = 500;
const PUBLISH_BATCH = 500;

/**
 * Exports every signed checkpoint to a sink apart from the audit database: the compacted
 * `tessera.audit.checkpoints.v1` topic (issue 7.2; libs/audit/domain CHAIN.md). Someone who can
 * rewrite the database cannot take back what was published there, so verification against the sink
 * catches a rewrite that also deleted or replaced checkpoints in the database.
 *
 * Like the outbox relay: read what is past the sink's mark, publish (key = toPosition, so compaction
 * keeps every checkpoint), then move the mark, under a transaction-scoped advisory lock so several
 * instances never publish concurrently. A crash in between publishes a checkpoint twice, which the
 * compacted topic and the verifier both absorb.
 *
 * The same loop signs the head every AUDIT_CHECKPOINT_INTERVAL_MS when records arrived since the last
 * checkpoint, bounding how long a quiet log's tail rests on the chain alone.
 */
@Injectable()
export class CheckpointSink implements OnApplicationBootstrap, OnApplicationShutdown {
  private producer?: Producer;
  private connected = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastTimedCheckpoint = Date.now();
  private failures = 0;

  constructor(
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ChainAppender) private readonly appender: ChainAppender,
    @Inject(AuditMetrics) private readonly metrics: AuditMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (this.settings.developmentKeys) {
      this.logger.warn('audit-service is signing checkpoints and wrapping data keys with the public development keys (dev-insecure); never use them for real data');
    }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** One pass now (tests, shutdown): the timed checkpoint if due, then everything unpublished. */
  async runOnce(options: { forceCheckpoint?: boolean } = {}): Promise<number> {
    const interval = this.settings.checkpointIntervalMs;
    if (options.forceCheckpoint || (interval > 0 && Date.now() - this.lastTimedCheckpoint >= interval)) {
      this.lastTimedCheckpoint = Date.now();
      await this.dataSource.transaction((manager) => this.appender.checkpointHead(manager));
    }
    let total = 0;
    for (;;) {
      const published = await this.publishBatch();
      total += published;
      if (published < PUBLISH_BATCH) return total;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().then(
        () => {
          this.failures = 0;
          this.schedule(TICK_MS);
        },
        (error: unknown) => {
          this.failures++;
          this.connected = false;
          const retryInMs = Math.min(TICK_MS * 2 ** this.failures, 10_000);
          this.logger.warn({ err: error, retryInMs }, 'could not publish audit checkpoints to the sink; will retry');
          this.schedule(retryInMs);
        },
      );
    }, delayMs);
  }

  private async publishBatch(): Promise<number> {
    const topic = this.settings.checkpointTopic;
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }]: { locked: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked`, [`tessera.audit.sink.${topic}`]);
      if (!locked) return 0;
      await manager.query(`INSERT INTO audit_checkpoint_sinks (sink) VALUES ($1) ON CONFLICT (sink) DO NOTHING`, [topic]);
      const [mark]: { published_through: string }[] = await manager.query(`SELECT published_through::text FROM audit_checkpoint_sinks WHERE sink = $1`, [topic]);
      const rows: CheckpointRow[] = await manager.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE to_position > $1 ORDER BY to_position LIMIT ${PUBLISH_BATCH}`, [mark.published_through]);
      if (rows.length === 0) {
        this.metrics.checkpointsUnpublished.set(0);
        return 0;
      }
      const checkpoints = rows.map(toSignedCheckpoint);
      await this.connect();
      await this.producer?.send({
        topic,
        acks: -1,
        messages: checkpoints.map((checkpoint) => ({ key: String(checkpoint.toPosition), value: JSON.stringify(checkpoint) })),
      });
      const last = checkpoints[checkpoints.length - 1].toPosition;
      await manager.query(`UPDATE audit_checkpoint_sinks SET published_through = $2, updated_at = now() WHERE sink = $1`, [topic, last]);
      const [{ pending }]: { pending: string }[] = await manager.query(`SELECT count(*)::text AS pending FROM audit_checkpoints WHERE to_position > $1`, [last]);
      this.metrics.checkpointsUnpublished.set(Number(pending));
      return rows.length;
    });
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer?.connect();
    this.connected = true;
  }

  /**
   * Every checkpoint in the sink, read from the beginning of the topic up to its end as of now, for
   * a verification that does not trust the database's copy. Messages that are not signed
   * checkpoints are counted, not used: they cannot vouch for anything.
   */
  async readSink(timeoutMs = 30_000): Promise<{ checkpoints: SignedCheckpoint[]; malformed: number }> {
    const topic = this.settings.checkpointTopic;
    const admin = this.kafka.admin();
    let ends: Map<number, bigint>;
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    } catch {
      throw new ApiError(503, 'sink_unavailable', 'The checkpoint sink could not be read; verify against the database alone or retry.');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const checkpoints: SignedCheckpoint[] = [];
    let malformed = 0;
    if (ends.size === 0) return { checkpoints, malformed };

    const groupId = `audit-service.verify.${uuidv7()}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const remaining = new Set(ends.keys());
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const end = ends.get(partition);
          if (end === undefined || BigInt(message.offset) >= end) return;
          const parsed = signedCheckpointSchema.safeParse(safeJson(message.value?.toString('utf8')));
          if (parsed.success) checkpoints.push(parsed.data);
          else malformed++;
          if (BigInt(message.offset) + 1n >= end) {
            remaining.delete(partition);
            if (remaining.size === 0) finish();
          }
        },
      });
      const timer = setTimeout(finish, timeoutMs);
      await finished;
      clearTimeout(timer);
      if (remaining.size > 0) throw new ApiError(503, 'sink_unavailable', 'The checkpoint sink was not read to its end in time; retry.');
    } finally {
      await consumer.disconnect().catch(() => undefined);
      const cleanup = this.kafka.admin();
      await cleanup
        .connect()
        .then(() => cleanup.deleteGroups([groupId]))
        .catch(() => undefined)
        .finally(() => cleanup.disconnect().catch(() => undefined));
    }
    return { checkpoints, malformed };
  }
}

function safeJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
