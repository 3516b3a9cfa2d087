import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event-sourcing tables every service owns in its own database.
 *
 * - `events` is append-only: unique (stream_id, stream_version) gives optimistic concurrency (R5); the
 *   row is also the outbox entry (R1), so an event is published if and only if its transaction committed.
 * - `transaction_id` (xid8) lets the relay read in commit-safe order: it only reads rows whose
 *   transaction is older than every transaction still in flight, so a transaction that commits after a
 *   later BIGSERIAL position was already visible is never skipped (the plain-BIGSERIAL pitfall).
 * - `outbox_checkpoints` records how far each relay has published.
 * - `processed_messages` is the consumers' dedupe table, written in the same transaction as the effect.
 */
export class EventStoreSchema1732752000000 implements MigrationInterface {
  name = 'EventStoreSchema1732752000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE events (
        global_position BIGSERIAL PRIMARY KEY,
        transaction_id  XID8        NOT NULL DEFAULT pg_current_xact_id(),
        stream_id       TEXT        NOT NULL,
        stream_version  INTEGER     NOT NULL CHECK (stream_version > 0),
        event_id        UUID        NOT NULL UNIQUE,
        event_type      TEXT        NOT NULL,
        schema_version  INTEGER     NOT NULL,
        partition_key   TEXT        NOT NULL,
        data            JSONB       NOT NULL,
        metadata        JSONB       NOT NULL,
        occurred_at     TIMESTAMPTZ NOT NULL,
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    await queryRunner.query(`CREATE INDEX events_commit_order ON events (transaction_id, global_position)`);
    // Append-only: the application role may insert and read, never rewrite history.
    await queryRunner.query(`
      CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'events are append-only (% refused)', TG_OP; END $$`);
    await queryRunner.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_are_immutable()`);
    await queryRunner.query(`
      CREATE TABLE outbox_checkpoints (
        relay_name       TEXT PRIMARY KEY,
        transaction_id   XID8   NOT NULL,
        global_position  BIGINT NOT NULL,
        updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE processed_messages (
        consumer_group TEXT        NOT NULL,
        event_id       UUID        NOT NULL,
        processed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer_group, event_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE processed_messages`);
    await queryRunner.query(`DROP TABLE outbox_checkpoints`);
    await queryRunner.query(`DROP TRIGGER events_append_only ON events`);
    await queryRunner.query(`DROP FUNCTION events_are_immutable()`);
    await queryRunner.query(`DROP TABLE events`);
  }
}
