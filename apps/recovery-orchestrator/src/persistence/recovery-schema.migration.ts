import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The orchestrator's read models and guard rows (the events themselves are in the event store).
 * - `recoveries`: one row per recovery, for lists by state and by user. The partial unique index is
 *   the "one active recovery per user" rule, enforced in the transaction that stores the request.
 * - `incidents`: one row per incident; the partial unique index keeps one open incident per user,
 *   and an open row is the freeze that refuses new recoveries.
 * - `used_cancel_links`: nonces of "this wasn't me" links already used (single use).
 * - `drills`: the outcome of every recovery drill.
 */
export class RecoverySchema1732900000000 implements MigrationInterface {
  name = 'RecoverySchema1732900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE recoveries (
        recovery_id     TEXT        PRIMARY KEY,
        user_id         TEXT        NOT NULL,
        kind            TEXT        NOT NULL,
        status          TEXT        NOT NULL,
        policy_version  TEXT        NOT NULL,
        requested_by    TEXT        NOT NULL,
        requested_at    TIMESTAMPTZ NOT NULL,
        updated_at      TIMESTAMPTZ NOT NULL,
        approvals       INTEGER     NOT NULL DEFAULT 0,
        required_approvals INTEGER  NOT NULL,
        review          TEXT        NOT NULL,
        drill_id        TEXT,
        forced_by_incident_id TEXT,
        workflow_run_id TEXT
      )`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX recoveries_one_active_per_user ON recoveries (user_id)
        WHERE status NOT IN ('completed', 'cancelled', 'rejected', 'expired')`);
    await queryRunner.query(`CREATE INDEX recoveries_by_status ON recoveries (status, requested_at DESC)`);
    await queryRunner.query(`CREATE INDEX recoveries_by_user ON recoveries (user_id, requested_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE incidents (
        incident_id        TEXT        PRIMARY KEY,
        user_id            TEXT        NOT NULL,
        status             TEXT        NOT NULL,
        source             TEXT        NOT NULL,
        recovery_id        TEXT,
        forced_recovery_id TEXT,
        opened_at          TIMESTAMPTZ NOT NULL,
        updated_at         TIMESTAMPTZ NOT NULL
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX incidents_one_open_per_user ON incidents (user_id) WHERE status <> 'unfrozen'`);
    await queryRunner.query(`
      CREATE TABLE used_cancel_links (
        nonce       TEXT        PRIMARY KEY,
        recovery_id TEXT        NOT NULL,
        used_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
        expires_at  TIMESTAMPTZ NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE drills (
        drill_id       TEXT        PRIMARY KEY,
        recovery_id    TEXT        NOT NULL,
        user_id        TEXT        NOT NULL,
        outcome        TEXT        NOT NULL,
        reason         TEXT,
        policy_version TEXT        NOT NULL,
        started_at     TIMESTAMPTZ NOT NULL,
        finished_at    TIMESTAMPTZ NOT NULL,
        duration_ms    BIGINT      NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE drills`);
    await queryRunner.query(`DROP TABLE used_cancel_links`);
    await queryRunner.query(`DROP TABLE incidents`);
    await queryRunner.query(`DROP TABLE recoveries`);
  }
}
