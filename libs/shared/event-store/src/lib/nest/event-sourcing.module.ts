import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type EventEnvelope, type EventRegistry, TOPICS } from '@tessera/contracts';
import { DATA_SOURCE, KAFKA, LOGGER, Metrics, SERVICE_NAME } from '@tessera/platform';
import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { CommandHandler } from '../command-handler';
import { type InlineProjection, PostgresEventStore } from '../event-store';
import { IdempotencyStore } from '../idempotency/idempotency-store';
import { IdempotencyInterceptor } from '../idempotency/idempotent.interceptor';
import { type ConsumedFrom, IdempotentConsumer } from '../idempotent-consumer';
import { OutboxRelay } from '../outbox-relay';

/** A Nest provider that handles the events of one consumer group. */
export interface EventConsumer {
  handle(event: EventEnvelope, manager: EntityManager, from: ConsumedFrom): Promise<void>;
  /** Optional: all fresh events of a batch at once (see BatchEventHandler). */
  handleBatch?(events: readonly EventEnvelope[], manager: EntityManager, from: ConsumedFrom): Promise<void>;
}

export interface ConsumerDefinition {
  /** Becomes the consumer group `<service>.<name>`. The handler is a provider of the service's own module. */
  readonly name: string;
  readonly topics: readonly string[];
  readonly handler: Type<EventConsumer>;
  readonly allowUnknownTypes?: boolean;
}

export interface EventSourcingOptions {
  /** The topic this service publishes its events to (none for a service that only consumes). */
  readonly topic?: string;
  readonly registry: EventRegistry;
  /** Read models updated in the append's transaction; they get only platform providers injected. */
  readonly projections?: readonly Type<InlineProjection>[];
  readonly consumers?: readonly ConsumerDefinition[];
}

const OPTIONS = Symbol('tessera.eventSourcingOptions');

/** Starts the outbox relay and the consumers with the service, stops them (draining) with it. */
@Injectable()
class EventPipelines implements OnApplicationBootstrap, OnApplicationShutdown {
  private producer?: Producer;
  private relay?: OutboxRelay;
  private readonly consumers: IdempotentConsumer[] = [];

  constructor(
    @Inject(OPTIONS) private readonly options: EventSourcingOptions,
    @Inject(SERVICE_NAME) private readonly serviceName: string,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The relay keeps retrying through a Kafka outage, so the service starts even when Kafka is down.
    if (this.options.topic) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      this.relay = new OutboxRelay({
        dataSource: this.dataSource,
        producer: this.producer,
        topic: this.options.topic,
        relayName: this.serviceName,
        logger: this.logger,
        metrics: this.metrics.registry,
      });
      this.relay.start();
    }
    for (const definition of this.options.consumers ?? []) {
      const handler = this.moduleRef.get(definition.handler, { strict: false });
      const consumer = new IdempotentConsumer({
        kafka: this.kafka,
        dataSource: this.dataSource,
        registry: this.options.registry,
        groupId: `${this.serviceName}.${definition.name}`,
        topics: definition.topics,
        deadLetterTopic: TOPICS.deadLetter,
        handler: (event, manager, from) => handler.handle(event, manager, from),
        batchHandler: handler.handleBatch ? (events, manager, from) => handler.handleBatch!(events, manager, from) : undefined,
        logger: this.logger,
        metrics: this.consumers.length === 0 ? this.metrics.registry : undefined,
        allowUnknownTypes: definition.allowUnknownTypes,
      });
      this.consumers.push(consumer);
      consumer.start().catch((error: unknown) => this.logger.error({ err: error, consumer: definition.name }, 'consumer failed to start'));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop().catch(() => undefined)));
    await this.relay?.stop();
    await this.producer?.disconnect().catch(() => undefined); // the relay connected it
  }
}

/**
 * The one way a service gets its event store, command handler, outbox relay and consumers
 * (issue: "the four services use this backbone rather than anything of their own").
 */
@Module({})
export class EventSourcingModule {
  static forService(options: EventSourcingOptions): DynamicModule {
    const projections = options.projections ?? [];
    return {
      module: EventSourcingModule,
      // Global: every feature module of the service uses the same store and handler.
      global: true,
      providers: [
        { provide: OPTIONS, useValue: options },
        ...projections,
        {
          provide: PostgresEventStore,
          inject: [DATA_SOURCE, ...projections],
          useFactory: (dataSource: DataSource, ...instances: InlineProjection[]) => new PostgresEventStore(dataSource, options.registry, instances),
        },
        { provide: CommandHandler, inject: [PostgresEventStore], useFactory: (store: PostgresEventStore) => new CommandHandler(store) },
        { provide: IdempotencyStore, inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => new IdempotencyStore(dataSource) },
        IdempotencyInterceptor,
        EventPipelines,
      ],
      exports: [PostgresEventStore, CommandHandler, IdempotencyStore, IdempotencyInterceptor],
    };
  }
}
