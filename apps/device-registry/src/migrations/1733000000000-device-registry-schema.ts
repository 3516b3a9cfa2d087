import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * device-registry's own tables, beside the event store (EVENT_STORE_MIGRATIONS). The events of
 * `devices-user-<userId>` are the truth; every table here is a read model or a guard, rebuilt from
 * events or disposable:
 *
 * - `device_views`, `device_credentials`, `vault_backups`: read models updated in the append's
 *   transaction (DeviceViewsProjection), so a list is never behind its commands.
 * - `credential_facts`: what auth-service's events said about the user's credentials (kinds, status,
 *   codes left) — no secret: auth's events carry none (S29).
 * - `readiness_levels`: the last level assessed per user, to tell when it drops.
 * - `vault_blob_contents`: the latest encrypted backup per user, opaque to the server (S31).
 * - `step_up_uses`: each step-up assertion authorises one use per purpose (replay guard).
 * - `rate_limits`: fixed-window counters shared by every instance.
 */
export class DeviceRegistrySchema1733000000000 implements MigrationInterface {
  name = 'DeviceRegistrySchema1733000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE device_views (
        device_id            UUID        PRIMARY KEY,
        user_id              TEXT        NOT NULL,
        kind                 TEXT        NOT NULL,
        name                 TEXT        NOT NULL,
        status               TEXT        NOT NULL CHECK (status IN ('active', 'lost', 'revoked')),
        aaguid               TEXT,
        credentials          JSONB       NOT NULL DEFAULT '[]'::jsonb,
        registered_at        TIMESTAMPTZ NOT NULL,
        last_used_at         TIMESTAMPTZ,
        loss_reason          TEXT,
        reported_at          TIMESTAMPTZ,
        revocation_reason    TEXT,
        revocation_reference TEXT,
        revoked_at           TIMESTAMPTZ
      )`);
    await queryRunner.query(`CREATE INDEX device_views_by_user ON device_views (user_id, registered_at, device_id)`);
    await queryRunner.query(`
      CREATE TABLE device_credentials (
        credential_id UUID        PRIMARY KEY,
        device_id     UUID        NOT NULL REFERENCES device_views (device_id),
        user_id       TEXT        NOT NULL,
        factor        TEXT        NOT NULL,
        bound_at      TIMESTAMPTZ NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX device_credentials_by_device ON device_credentials (device_id)`);
    await queryRunner.query(`
      CREATE TABLE credential_facts (
        credential_id   UUID        PRIMARY KEY,
        user_id         TEXT        NOT NULL,
        kind            TEXT        NOT NULL,
        status          TEXT        NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
        name            TEXT,
        aaguid          TEXT,
        device_bound    BOOLEAN,
        remaining_codes INTEGER,
        created_at      TIMESTAMPTZ NOT NULL,
        updated_at      TIMESTAMPTZ NOT NULL,
        last_used_at    TIMESTAMPTZ
      )`);
    await queryRunner.query(`CREATE INDEX credential_facts_by_user ON credential_facts (user_id)`);
    await queryRunner.query(`
      CREATE TABLE readiness_levels (
        user_id     TEXT        PRIMARY KEY,
        level       TEXT        NOT NULL,
        score       INTEGER     NOT NULL,
        findings    JSONB       NOT NULL,
        assessed_at TIMESTAMPTZ NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE vault_backups (
        backup_id         UUID        PRIMARY KEY,
        user_id           TEXT        NOT NULL,
        version           INTEGER     NOT NULL CHECK (version > 0),
        format_version    INTEGER     NOT NULL,
        size_bytes        INTEGER     NOT NULL,
        device_id         UUID,
        replaces_backup_id UUID,
        stored_at         TIMESTAMPTZ NOT NULL,
        last_restored_at  TIMESTAMPTZ,
        restore_count     INTEGER     NOT NULL DEFAULT 0,
        CONSTRAINT vault_backups_version_unique UNIQUE (user_id, version)
      )`);
    // Only the latest blob is kept: an older one may be encrypted under a passphrase the user has since
    // changed because it leaked, and every retained copy is one more target for offline guessing.
    await queryRunner.query(`
      CREATE TABLE vault_blob_contents (
        user_id    TEXT  PRIMARY KEY,
        backup_id  UUID  NOT NULL UNIQUE REFERENCES vault_backups (backup_id),
        sha256     TEXT  NOT NULL,
        content    BYTEA NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE step_up_uses (
        token_id   TEXT        NOT NULL,
        purpose    TEXT        NOT NULL,
        user_id    TEXT        NOT NULL,
        target     TEXT,
        used_at    TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (token_id, purpose)
      )`);
    await queryRunner.query(`CREATE INDEX step_up_uses_expiry ON step_up_uses (expires_at)`);
    await queryRunner.query(`
      CREATE TABLE rate_limits (
        bucket       TEXT        NOT NULL,
        window_start TIMESTAMPTZ NOT NULL,
        hits         INTEGER     NOT NULL,
        PRIMARY KEY (bucket, window_start)
      )`);
    await queryRunner.query(`CREATE INDEX rate_limits_window ON rate_limits (window_start)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['rate_limits', 'step_up_uses', 'vault_blob_contents', 'vault_backups', 'readiness_levels', 'credential_facts', 'device_credentials', 'device_views']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
