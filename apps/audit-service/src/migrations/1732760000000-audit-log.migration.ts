import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log's tables (R8; libs/audit/domain CHAIN.md and ERASURE.md; docs/adr/0009-audit-log.md).
 *
 * - `audit_records`: the hash chain, one row per position. Every column is part of the hashed record,
 *   so a change to any of them (the indexed ones included) is found by verification. Append-only for
 *   the application: a trigger refuses UPDATE and TRUNCATE, and DELETE of anything but a prefix the
 *   retention state has already recorded as cut.
 * - `audit_checkpoints`: signed checkpoints, append-only, never deleted (they anchor retention cuts).
 * - `audit_chain_head`: one row, locked FOR UPDATE by each append so positions are dense and in
 *   commit order; its position may only grow, so a tail deleted behind it is noticed.
 * - `audit_retention_state`: how far retention has cut; may only move forward, to a checkpoint.
 * - `audit_data_keys`: per-person data keys, wrapped under the key-encryption key (S28). Erasure
 *   clears the person and the wrapped key and keeps a tombstone (crypto-shredding).
 * - `audit_checkpoint_sinks`: how far checkpoints were published to the separate sink.
 *
 * These triggers bind the application's path. The table owner can still disable them (ALTER TABLE …
 * DISABLE TRIGGER): that is the insider the hash chain and the signed checkpoints are there to catch.
 * In production the service should run as a role that owns nothing (ADR 0009).
 */
export class AuditLog1732760000000 implements MigrationInterface {
  name = 'AuditLog1732760000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_records (
        position          BIGINT      PRIMARY KEY CHECK (position > 0),
        previous_hash     TEXT        NOT NULL,
        hash              TEXT        NOT NULL,
        event_id          UUID        NOT NULL,
        source            TEXT        NOT NULL,
        event_type        TEXT        NOT NULL,
        event_version     INTEGER     NOT NULL,
        category          TEXT        NOT NULL,
        outcome           TEXT        NOT NULL,
        actor_kind        TEXT        NOT NULL,
        actor_id          TEXT,
        actor_is_subject  BOOLEAN     NOT NULL,
        subject_ref       TEXT,
        occurred_at       TIMESTAMPTZ NOT NULL,
        recorded_at       TIMESTAMPTZ NOT NULL,
        correlation_id    TEXT        NOT NULL,
        causation_id      TEXT,
        ticket            TEXT,
        reason_code       TEXT,
        details           JSONB       NOT NULL,
        personal          JSONB
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX audit_records_event_id ON audit_records (event_id)`);
    // Keyset pagination on position under each filter the query API offers.
    await queryRunner.query(`CREATE INDEX audit_records_subject ON audit_records (subject_ref, position) WHERE subject_ref IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX audit_records_actor ON audit_records (actor_id, position) WHERE actor_id IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX audit_records_event_type ON audit_records (event_type, position)`);
    await queryRunner.query(`CREATE INDEX audit_records_correlation ON audit_records (correlation_id, position)`);
    await queryRunner.query(`CREATE INDEX audit_records_occurred_at ON audit_records (occurred_at, position)`);
    await queryRunner.query(`CREATE INDEX audit_records_recorded_at ON audit_records (recorded_at)`);
    // The recoveries report gathers every record of a recovery.
    await queryRunner.query(`CREATE INDEX audit_records_recovery ON audit_records ((details->>'recoveryId'), position) WHERE details ? 'recoveryId'`);

    await queryRunner.query(`
      CREATE TABLE audit_checkpoints (
        to_position    BIGINT      PRIMARY KEY CHECK (to_position > 0),
        from_position  BIGINT      NOT NULL CHECK (from_position > 0),
        head_hash      TEXT        NOT NULL,
        record_count   BIGINT      NOT NULL,
        created_at     TIMESTAMPTZ NOT NULL,
        key_id         TEXT        NOT NULL,
        signature      TEXT        NOT NULL
      )`);

    await queryRunner.query(`
      CREATE TABLE audit_chain_head (
        id                        SMALLINT PRIMARY KEY CHECK (id = 1),
        position                  BIGINT   NOT NULL CHECK (position >= 0),
        hash                      TEXT     NOT NULL,
        last_checkpoint_position  BIGINT   NOT NULL CHECK (last_checkpoint_position >= 0)
      )`);
    // The genesis hash (libs/audit/domain hash-chain.ts): SHA-256 of the versioned label.
    await queryRunner.query(
      `INSERT INTO audit_chain_head (id, position, hash, last_checkpoint_position) VALUES (1, 0, encode(sha256(convert_to('tessera.audit.chain.v1.genesis', 'UTF8')), 'hex'), 0)`,
    );

    await queryRunner.query(`
      CREATE TABLE audit_retention_state (
        id               SMALLINT    PRIMARY KEY CHECK (id = 1),
        deleted_through  BIGINT      NOT NULL CHECK (deleted_through >= 0),
        retention_days   INTEGER     CHECK (retention_days > 0),
        policy_source    TEXT        NOT NULL DEFAULT 'configuration' CHECK (policy_source IN ('configuration', 'api')),
        updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`INSERT INTO audit_retention_state (id, deleted_through) VALUES (1, 0)`);

    await queryRunner.query(`
      CREATE TABLE audit_data_keys (
        key_id        TEXT        PRIMARY KEY,
        person_id     TEXT        UNIQUE,
        wrapped_key   TEXT,
        created_at    TIMESTAMPTZ NOT NULL,
        destroyed_at  TIMESTAMPTZ,
        CONSTRAINT audit_data_keys_live_or_tombstone CHECK (
          (destroyed_at IS NULL AND person_id IS NOT NULL AND wrapped_key IS NOT NULL)
          OR (destroyed_at IS NOT NULL AND person_id IS NULL AND wrapped_key IS NULL))
      )`);

    await queryRunner.query(`
      CREATE TABLE audit_checkpoint_sinks (
        sink               TEXT        PRIMARY KEY,
        published_through  BIGINT      NOT NULL DEFAULT 0,
        updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);

    // ---- the application's path is append-only -------------------------------------------------
    await queryRunner.query(`
      CREATE FUNCTION audit_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND OLD.position <= (SELECT deleted_through FROM audit_retention_state WHERE id = 1) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit records are append-only (% of position % refused)', TG_OP, OLD.position USING ERRCODE = 'P0001';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
      FOR EACH ROW EXECUTE FUNCTION audit_records_guard()`);
    await queryRunner.query(`
      CREATE FUNCTION audit_refuse_statement() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION '% on % is refused: the audit log is append-only', TG_OP, TG_TABLE_NAME; END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_statement()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_statement()`);

    await queryRunner.query(`
      CREATE FUNCTION audit_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.position < OLD.position OR NEW.last_checkpoint_position < OLD.last_checkpoint_position THEN
          RAISE EXCEPTION 'the audit chain head only moves forward';
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard()`);
    await queryRunner.query(`CREATE TRIGGER audit_chain_head_kept BEFORE DELETE OR TRUNCATE ON audit_chain_head FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_statement()`);

    // A retention cut only moves forward, ends exactly at a stored checkpoint and keeps the newest record.
    await queryRunner.query(`
      CREATE FUNCTION audit_retention_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.deleted_through <> OLD.deleted_through THEN
          IF NEW.deleted_through < OLD.deleted_through THEN
            RAISE EXCEPTION 'a retention cut never moves backwards';
          END IF;
          IF NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE to_position = NEW.deleted_through) THEN
            RAISE EXCEPTION 'a retention cut ends at a signed checkpoint';
          END IF;
          IF NEW.deleted_through >= (SELECT position FROM audit_chain_head WHERE id = 1) THEN
            RAISE EXCEPTION 'a retention cut never removes the newest record';
          END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_retention_forward BEFORE UPDATE ON audit_retention_state FOR EACH ROW EXECUTE FUNCTION audit_retention_guard()`);
    await queryRunner.query(`CREATE TRIGGER audit_retention_kept BEFORE DELETE OR TRUNCATE ON audit_retention_state FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_statement()`);

    // A destroyed key stays destroyed: nothing brings back a person or a wrapped key to a tombstone.
    await queryRunner.query(`
      CREATE FUNCTION audit_data_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.destroyed_at IS NOT NULL OR NEW.key_id <> OLD.key_id OR NEW.created_at <> OLD.created_at
           OR (NEW.destroyed_at IS NULL AND NEW.person_id IS DISTINCT FROM OLD.person_id) THEN
          RAISE EXCEPTION 'data keys are only ever rewrapped or destroyed';
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_data_keys_destroy_only BEFORE UPDATE OR DELETE ON audit_data_keys FOR EACH ROW EXECUTE FUNCTION audit_data_keys_guard()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['audit_checkpoint_sinks', 'audit_data_keys', 'audit_retention_state', 'audit_chain_head', 'audit_checkpoints', 'audit_records']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
    for (const fn of ['audit_records_guard', 'audit_refuse_statement', 'audit_chain_head_guard', 'audit_retention_guard', 'audit_data_keys_guard']) {
      await queryRunner.query(`DROP FUNCTION ${fn}()`);
    }
  }
}
