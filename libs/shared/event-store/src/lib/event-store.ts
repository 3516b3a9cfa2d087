import type { EventEnvelope, EventMetadata, EventRegistry } from '@tessera/contracts';
import { uuidv7 } from '@tessera/util';
import type { DataSource, EntityManager } from 'typeorm';
import { ConcurrencyError } from './errors';

/** An event as a decider emits it. */
export interface NewEvent {
  readonly type: string;
  readonly data: object;
}

/** An event as stored: its envelope plus where it sits in its stream and in the store. */
export interface StoredEvent extends EventEnvelope {
  readonly streamVersion: number;
  readonly globalPosition: string;
  readonly partitionKey: string;
}

export interface AppendOptions {
  /** The Kafka key: the user the events are about, so one user's events stay in order. */
  readonly partitionKey: string;
  readonly metadata: EventMetadata;
  readonly now: Date;
}

/**
 * A read model updated in the same transaction as the append (so it is never behind its events).
 * Projections that may lag use a consumer instead.
 */
export interface InlineProjection {
  readonly name: string;
  apply(events: readonly StoredEvent[], manager: EntityManager): Promise<void>;
}

interface EventRow {
  global_position: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  event_type: string;
  schema_version: number;
  partition_key: string;
  data: Record<string, unknown>;
  metadata: { actor: EventEnvelope['actor']; correlationId: string; causationId: string | null };
  occurred_at: Date;
}

export const EVENT_COLUMNS =
  'global_position, stream_id, stream_version, event_id, event_type, schema_version, partition_key, data, metadata, occurred_at';

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    eventId: row.event_id,
    type: row.event_type,
    version: row.schema_version,
    streamId: row.stream_id,
    occurredAt: row.occurred_at.toISOString(),
    actor: row.metadata.actor,
    correlationId: row.metadata.correlationId,
    causationId: row.metadata.causationId,
    data: row.data,
    streamVersion: row.stream_version,
    globalPosition: String(row.global_position),
    partitionKey: row.partition_key,
  };
}

/** The envelope alone, as published to Kafka. */
export function toEnvelope(event: StoredEvent): EventEnvelope {
  const { streamVersion: _v, globalPosition: _p, partitionKey: _k, ...envelope } = event;
  return envelope;
}

/**
 * An append-only PostgreSQL event store (schema: EventStoreSchema migration). Every event is checked
 * against its contract before it is stored, so nothing that breaks the contract — an extra field
 * carrying a secret, say (S29) — can reach the table or, through the outbox, Kafka.
 */
export class PostgresEventStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EventRegistry,
    private readonly projections: readonly InlineProjection[] = [],
  ) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async readStream(streamId: string, manager: EntityManager = this.dataSource.manager): Promise<{ events: StoredEvent[]; version: number }> {
    const rows: EventRow[] = await manager.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [streamId],
    );
    const events = rows.map((row) => this.registry.upcast(toStoredEvent(row)) as StoredEvent);
    return { events, version: rows.length === 0 ? 0 : rows[rows.length - 1].stream_version };
  }

  /** Whether appends must share a transaction with inline projections. */
  get hasInlineProjections(): boolean {
    return this.projections.length > 0;
  }

  /**
   * Appends in a transaction of its own. With no inline projection to update, the append is one
   * autocommit statement (its expected-version check and insert are atomic by themselves): one round
   * trip instead of BEGIN, INSERT, COMMIT.
   */
  async appendNow(streamId: string, expectedVersion: number, events: readonly NewEvent[], options: AppendOptions): Promise<StoredEvent[]> {
    if (this.hasInlineProjections) return this.transaction((manager) => this.append(manager, streamId, expectedVersion, events, options));
    return this.append(this.dataSource.manager, streamId, expectedVersion, events, options);
  }

  /**
   * Appends `events` after `expectedVersion` (0 for a new stream). Throws ConcurrencyError when the
   * stream is not at that version — whether another writer got there first (the unique
   * (stream_id, stream_version) constraint) or the caller's version is stale or ahead.
   * Run it inside a transaction (`manager` from `transaction()`) when other writes must commit with it;
   * the inline projections share that transaction.
   */
  async append(manager: EntityManager, streamId: string, expectedVersion: number, events: readonly NewEvent[], options: AppendOptions): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const occurredAt = options.now.toISOString();
    const metadata = JSON.stringify({
      actor: options.metadata.actor,
      correlationId: options.metadata.correlationId,
      causationId: options.metadata.causationId ?? null,
    });
    const params: unknown[] = [streamId, expectedVersion, options.partitionKey, metadata, occurredAt];
    const values = events.map((event, index) => {
      const data = this.registry.validateData(event.type, event.data);
      const base = params.length;
      params.push(expectedVersion + index + 1, uuidv7(options.now.getTime()), event.type, this.registry.currentVersion(event.type), JSON.stringify(data));
      return `($${base + 1}::int, $${base + 2}::uuid, $${base + 3}::text, $${base + 4}::int, $${base + 5}::jsonb)`;
    });
    let rows: EventRow[];
    try {
      rows = await manager.query(
        `WITH current AS (SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1)
         INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, partition_key, data, metadata, occurred_at)
         SELECT $1, n.stream_version, n.event_id, n.event_type, n.schema_version, $3, n.data, $4::jsonb, $5::timestamptz
           FROM (VALUES ${values.join(', ')}) AS n(stream_version, event_id, event_type, schema_version, data), current
          WHERE current.version = $2
         RETURNING ${EVENT_COLUMNS}`,
        params,
      );
    } catch (error) {
      if (isUniqueViolation(error, 'events_stream_version_unique')) throw new ConcurrencyError(streamId, expectedVersion);
      throw error;
    }
    if (rows.length !== events.length) throw new ConcurrencyError(streamId, expectedVersion);
    const stored = rows.map(toStoredEvent).sort((a, b) => a.streamVersion - b.streamVersion);
    for (const projection of this.projections) await projection.apply(stored, manager);
    return stored;
  }
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })?.driverError ?? (error as { code?: string; constraint?: string });
  return driverError?.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}
