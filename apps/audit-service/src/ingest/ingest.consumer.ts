import { Inject, Injectable } from '@nestjs/common';
import type { EventEnvelope } from '@tessera/contracts';
import type { ConsumedFrom, EventConsumer } from '@tessera/event-store';
import type { EntityManager } from 'typeorm';
import { ChainAppender } from '../chain/chain-appender.service';

/**
 * The `ingest` consumer: every event of every `tessera.*` topic becomes an audit record (issue 7.1).
 * The idempotent consumer has already parsed the envelope (malformed ones went to the dead-letter
 * topic, R6) and claimed each event id in this transaction, so a redelivery appends nothing.
 * Events are appended a batch at a time: one chain lock and one INSERT per batch.
 */
@Injectable()
export class IngestConsumer implements EventConsumer {
  constructor(@Inject(ChainAppender) private readonly appender: ChainAppender) {}

  async handle(event: EventEnvelope, manager: EntityManager, from: ConsumedFrom): Promise<void> {
    await this.handleBatch([event], manager, from);
  }

  async handleBatch(events: readonly EventEnvelope[], manager: EntityManager, from: ConsumedFrom): Promise<void> {
    await this.appender.append(
      manager,
      events.map((event) => ({ event, source: from.topic })),
    );
  }
}
