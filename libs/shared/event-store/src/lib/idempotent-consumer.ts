import { ContractError, type EventEnvelope, type EventRegistry } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';

/** How long a stop waits for a start still connecting (kafkajs retries a connection for about that long). */
const STOP_WAIT_MS = 30_000;

/** The topic and partition a batch of events was read from (e.g. for a consumer that records its source). */
export interface ConsumedFrom {
  readonly topic: string;
  readonly partition: number;
}

/** What a consumer does with one event, inside the transaction that also records it as processed. */
export type EventHandler = (event: EventEnvelope, manager: EntityManager, from: ConsumedFrom) => Promise<void>;

/**
 * Optional: the fresh (not yet processed) events of a batch in one call, in offset order, in the same
 * transaction — for a consumer whose effect is cheaper in bulk (the audit log's chained appends).
 */
export type BatchEventHandler = (events: readonly EventEnvelope[], manager: EntityManager, from: ConsumedFrom) => Promise<void>;

export interface IdempotentConsumerOptions {
  readonly kafka: Kafka;
  readonly dataSource: DataSource;
  readonly registry: EventRegistry;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly deadLetterTopic: string;
  readonly handler: EventHandler;
  /** When set, used instead of `handler` with all the fresh events of a batch at once. */
  readonly batchHandler?: BatchEventHandler;
  readonly logger: Logger;
  readonly metrics?: Registry;
  /** Accept event types the registry does not know (the audit log keeps every event). */
  readonly allowUnknownTypes?: boolean;
  readonly fromBeginning?: boolean;
}

/** Raised by a handler for an event it can never process; the event goes to the dead-letter topic. */
export class PermanentEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentEventError';
  }
}

type Verdict = { kind: 'event'; event: EventEnvelope } | { kind: 'dead'; reason: string };

/**
 * Consumes events at least once and applies each at most once (R1, R6):
 * - every message is parsed and checked against its contract; one that fails goes to the
 *   dead-letter topic with the reason and its original bytes, and the consumer carries on;
 * - a batch is applied in one transaction that first records each event id in `processed_messages`
 *   (primary key (consumer_group, event_id)); ids already there are duplicates and are skipped;
 * - if a handler fails, the batch is rolled back and re-run one event per transaction, so one bad
 *   event is isolated: a permanent failure (contract, domain rule) is dead-lettered, anything else
 *   (database down) is retried by Kafka redelivery — never dropped;
 * - offsets are committed only after the transaction, so a crash or rebalance redelivers, and the
 *   dedupe table makes the redelivery harmless.
 */
export class IdempotentConsumer {
  private consumer?: Consumer;
  private producer?: Producer;
  private starting?: Promise<void>;
  private stopping = false;
  private readonly processed?: Counter<'group' | 'outcome'>;
  private readonly lag?: Gauge<'group' | 'topic' | 'partition'>;

  constructor(private readonly options: IdempotentConsumerOptions) {
    if (options.metrics) {
      const registers = [options.metrics];
      this.processed = new Counter({ name: 'consumer_events_total', help: 'Events seen by idempotent consumers by outcome', labelNames: ['group', 'outcome'], registers });
      this.lag = new Gauge({ name: 'consumer_lag_messages', help: 'Messages between the last processed offset and the partition end', labelNames: ['group', 'topic', 'partition'], registers });
    }
  }

  /** Connects, subscribes and runs; a `stop` that comes while this is under way ends it at the next step. */
  start(): Promise<void> {
    this.starting = this.connectAndRun();
    return this.starting;
  }

  private async connectAndRun(): Promise<void> {
    const { kafka, groupId, topics } = this.options;
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    if (this.stopping) return;
    this.consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, allowAutoTopicCreation: false });
    await this.consumer.connect();
    if (this.stopping) return;
    await this.consumer.subscribe({ topics: [...topics], fromBeginning: this.options.fromBeginning ?? true });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.lag?.set({ group: groupId, topic: payload.topic, partition: String(payload.partition) }, Number(payload.offsetLagLow));
    });
    if (this.stopping) return;
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 3, eachBatch: (batch) => this.onBatch(batch) });
  }

  /**
   * Leaves the group cleanly (offsets of finished batches are already committed). A start still
   * connecting is waited for (at most STOP_WAIT_MS), so that no connection outlives the service.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.starting) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.starting.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    }
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.consumer = undefined;
    this.producer = undefined;
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const from: ConsumedFrom = { topic: batch.topic, partition: batch.partition };
    const verdicts = batch.messages.map((message) => this.read(message));
    const events = verdicts.flatMap((verdict, index) => (verdict.kind === 'event' ? [{ event: verdict.event, message: batch.messages[index] }] : []));

    for (const [index, verdict] of verdicts.entries()) {
      if (verdict.kind === 'dead') await this.deadLetter(batch.topic, batch.partition, batch.messages[index], verdict.reason);
    }
    try {
      await this.apply(events.map(({ event }) => event), from);
    } catch (error) {
      this.options.logger.warn({ err: error, topic: batch.topic, partition: batch.partition }, 'batch failed; applying its events one by one');
      for (const { event, message } of events) {
        if (!isRunning() || isStale()) return;
        try {
          await this.apply([event], from);
        } catch (eventError) {
          if (!isPermanent(eventError)) throw eventError; // retried through redelivery; nothing is lost
          await this.deadLetter(batch.topic, batch.partition, message, `handler refused ${event.type}: ${(eventError as Error).message}`);
        }
        resolveOffset(message.offset);
        await heartbeat();
      }
    }
    const last = batch.messages[batch.messages.length - 1].offset;
    resolveOffset(last);
    // Committed here, after the batch's transaction: with autoCommit off, kafkajs' commitOffsetsIfNecessary
    // never commits (it has neither interval nor threshold), and every restart would read the topic again.
    await this.consumer?.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    await heartbeat();
  }

  private read(message: KafkaMessage): Verdict {
    if (!message.value) return { kind: 'dead', reason: 'message has no value' };
    try {
      return { kind: 'event', event: this.options.registry.parse(message.value, { allowUnknownTypes: this.options.allowUnknownTypes }) };
    } catch (error) {
      if (error instanceof ContractError) return { kind: 'dead', reason: `${error.code}: ${error.message}` };
      throw error;
    }
  }

  /** One transaction: claim the ids not seen before, apply only those. */
  private async apply(events: readonly EventEnvelope[], from: ConsumedFrom): Promise<void> {
    if (events.length === 0) return;
    const { groupId, handler, batchHandler } = this.options;
    let fresh = 0;
    await this.options.dataSource.transaction(async (manager) => {
      const claimed: { event_id: string }[] = await manager.query(
        `INSERT INTO processed_messages (consumer_group, event_id)
         SELECT $1, unnest($2::uuid[])
         ON CONFLICT DO NOTHING
         RETURNING event_id`,
        [groupId, events.map((event) => event.eventId)],
      );
      const claimedIds = new Set(claimed.map((row) => row.event_id));
      const seen = new Set<string>();
      const freshEvents: EventEnvelope[] = [];
      for (const event of events) {
        // A batch may hold the same event twice (a relay re-publish); apply it once.
        if (!claimedIds.has(event.eventId) || seen.has(event.eventId)) continue;
        seen.add(event.eventId);
        freshEvents.push(event);
      }
      if (batchHandler) {
        if (freshEvents.length > 0) await batchHandler(freshEvents, manager, from);
      } else {
        for (const event of freshEvents) await handler(event, manager, from);
      }
      fresh = freshEvents.length;
    });
    this.processed?.inc({ group: groupId, outcome: 'applied' }, fresh);
    this.processed?.inc({ group: groupId, outcome: 'duplicate' }, events.length - fresh);
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string): Promise<void> {
    this.options.logger.warn({ topic, partition, offset: message.offset, reason }, 'message sent to the dead-letter topic');
    await this.producer?.send({
      topic: this.options.deadLetterTopic,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            'dead-letter-reason': reason.slice(0, 1000),
            'dead-letter-source-topic': topic,
            'dead-letter-source-partition': String(partition),
            'dead-letter-source-offset': message.offset,
            'dead-letter-consumer-group': this.options.groupId,
            'dead-letter-at': new Date().toISOString(),
          },
        },
      ],
    });
    this.processed?.inc({ group: this.options.groupId, outcome: 'dead_lettered' });
  }
}

function isPermanent(error: unknown): boolean {
  return error instanceof PermanentEventError || error instanceof ContractError || error instanceof DomainError;
}
