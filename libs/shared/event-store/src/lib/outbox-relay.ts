import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource, QueryRunner } from 'typeorm';
import { EVENT_COLUMNS, type StoredEvent, toEnvelope, toStoredEvent } from './event-store';

export interface OutboxRelayOptions {
  readonly dataSource: DataSource;
  readonly producer: Producer;
  readonly topic: string;
  /** One checkpoint and one lock per name; instances with the same name share the work safely. */
  readonly relayName: string;
  readonly logger: Logger;
  readonly metrics?: Registry;
  readonly batchSize?: number;
  readonly idlePollMs?: number;
  readonly maxBackoffMs?: number;
}

/**
 * Publishes committed events to Kafka (R1, R2): at least once, in commit order, keyed by user id.
 *
 * Order and completeness: rows are read by (transaction_id, global_position) and only from
 * transactions older than the oldest one still running (`pg_snapshot_xmin`). A BIGSERIAL position is
 * taken at insert but becomes visible at commit, so a reader tailing positions alone can pass over a
 * slow transaction's row and never come back; filtering on the snapshot's xmin waits for it instead.
 *
 * Several instances: each holds a session advisory lock while it publishes; the others wait on
 * stand-by and take over when the holder's connection ends.
 *
 * Failure: publish, then advance the checkpoint. A crash between the two publishes the batch again;
 * consumers drop the duplicates by event id. While Kafka is down the relay retries with backoff and
 * the events simply wait in the table.
 */
export class OutboxRelay {
  private runner?: QueryRunner;
  private producerConnected = false;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  private readonly maxBackoffMs: number;
  private readonly lockKey: string;
  private readonly published?: Counter<'topic'>;
  private readonly lagSeconds?: Gauge<'topic'>;
  private readonly leader?: Gauge<'relay'>;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.idlePollMs = options.idlePollMs ?? 50;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.lockKey = `tessera.outbox.${options.relayName}`;
    if (options.metrics) {
      const registers = [options.metrics];
      this.published = new Counter({ name: 'outbox_events_published_total', help: 'Events the outbox relay published to Kafka', labelNames: ['topic'], registers });
      this.lagSeconds = new Gauge({ name: 'outbox_relay_lag_seconds', help: 'Age of the oldest event not yet published (0 when caught up)', labelNames: ['topic'], registers });
      this.leader = new Gauge({ name: 'outbox_relay_leader', help: '1 while this instance holds the relay lock', labelNames: ['relay'], registers });
    }
  }

  start(): void {
    this.stopped = false;
    this.loop ??= this.run();
  }

  /** Stops after the batch in flight, releasing the lock so another instance can take over. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await this.releaseLock();
  }

  /** Publishes whatever is ready now; for tests and shutdown. Returns how many events were sent. */
  async publishPending(): Promise<number> {
    if (!(await this.holdLock())) return 0;
    let total = 0;
    for (;;) {
      const sent = await this.publishBatch();
      total += sent;
      if (sent < this.batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      try {
        if (!(await this.holdLock())) {
          await this.sleep(1_000);
          continue;
        }
        const sent = await this.publishBatch();
        backoff = 100;
        if (sent < this.batchSize) await this.sleep(this.idlePollMs);
      } catch (error) {
        this.producerConnected = false;
        this.options.logger.warn({ err: error, relay: this.options.relayName, retryInMs: backoff }, 'outbox relay could not publish; will retry');
        await this.releaseLock();
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    }
    await this.releaseLock();
  }

  private async holdLock(): Promise<boolean> {
    if (this.runner && !this.runner.isReleased) return true;
    const runner = this.options.dataSource.createQueryRunner();
    await runner.connect();
    const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [this.lockKey]);
    if (!locked) {
      await runner.release();
      this.leader?.set({ relay: this.options.relayName }, 0);
      return false;
    }
    this.runner = runner;
    this.leader?.set({ relay: this.options.relayName }, 1);
    this.options.logger.info({ relay: this.options.relayName }, 'outbox relay holds the lock and is publishing');
    return true;
  }

  private async releaseLock(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    this.leader?.set({ relay: this.options.relayName }, 0);
    if (!runner || runner.isReleased) return;
    await runner.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [this.lockKey]).catch(() => undefined);
    await runner.release().catch(() => undefined);
  }

  private async publishBatch(): Promise<number> {
    const runner = this.runner;
    if (!runner) throw new Error('outbox relay does not hold its lock');
    const checkpoint: { transaction_id: string; global_position: string }[] = await runner.query(
      `SELECT transaction_id::text, global_position::text FROM outbox_checkpoints WHERE relay_name = $1`,
      [this.options.relayName],
    );
    const [fromTx, fromPosition] = checkpoint.length > 0 ? [checkpoint[0].transaction_id, checkpoint[0].global_position] : ['0', '0'];
    const rows = await runner.query(
      `SELECT ${EVENT_COLUMNS}, transaction_id::text AS transaction_id
         FROM events
        WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY transaction_id, global_position
        LIMIT $3`,
      [fromTx, fromPosition, this.batchSize],
    );
    if (rows.length === 0) {
      this.lagSeconds?.set({ topic: this.options.topic }, 0);
      return 0;
    }
    const events: StoredEvent[] = rows.map(toStoredEvent);
    this.lagSeconds?.set({ topic: this.options.topic }, Math.max(0, (Date.now() - Date.parse(events[0].occurredAt)) / 1000));
    if (!this.producerConnected) {
      // The relay owns its producer's connection: it connects before publishing, and again after any
      // failure, so a service starts while Kafka is down and catches up once it is back (R2).
      await this.options.producer.connect();
      this.producerConnected = true;
    }
    await this.options.producer.send({
      topic: this.options.topic,
      acks: -1,
      messages: events.map((event) => ({
        key: event.partitionKey,
        value: JSON.stringify(toEnvelope(event)),
        headers: { 'event-type': event.type, 'event-id': event.eventId, 'correlation-id': event.correlationId },
      })),
    });
    const last = rows[rows.length - 1];
    await runner.query(
      `INSERT INTO outbox_checkpoints (relay_name, transaction_id, global_position, updated_at)
       VALUES ($1, $2::xid8, $3, now())
       ON CONFLICT (relay_name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, global_position = EXCLUDED.global_position, updated_at = now()`,
      [this.options.relayName, last.transaction_id, last.global_position],
    );
    this.published?.inc({ topic: this.options.topic }, events.length);
    return events.length;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
