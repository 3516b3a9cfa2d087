import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What verification needs fast, beside the event store (the credential lifecycle itself is the stream
 * `auth-user-<userId>`). Every write here happens in the transaction of the events it belongs to.
 *
 * - `credentials`: the read model of a user's factors (inline projection of the events).
 * - `totp_seeds`: S28 envelope-encrypted seeds; `last_step` is the S1 guard, advanced only by an atomic
 *   conditional UPDATE.
 * - `webauthn_keys` / `webauthn_challenges`: public keys and counters (S19); challenges stored
 *   server-side, single use, expiring (S15).
 * - `backup_codes`: one row per code, found by its non-secret index (S11), salted hash and KDF
 *   parameters per row, `used_at` set by a conditional UPDATE (S12).
 * - `oob_channels` / `oob_codes`: encrypted email/SMS destinations; code MACs with expiry and
 *   single-use consumption (S7).
 * - `address_failures`: per-client-address failures in a sliding window (S9), in PostgreSQL so the limit
 *   holds across restarts and instances.
 * - `temporary_access_passes`: recovery passes, stored as MACs, single use (S25).
 * No column holds a secret in clear (S29).
 */
export class AuthSchema1732760000000 implements MigrationInterface {
  name = 'AuthSchema1732760000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE credentials (
        credential_id   UUID        PRIMARY KEY,
        user_id         TEXT        NOT NULL,
        kind            TEXT        NOT NULL,
        name            TEXT,
        status          TEXT        NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
        details         JSONB       NOT NULL DEFAULT '{}',
        remaining_codes INTEGER,
        created_at      TIMESTAMPTZ NOT NULL,
        last_used_at    TIMESTAMPTZ,
        revoked_at      TIMESTAMPTZ
      )`);
    await queryRunner.query(`CREATE INDEX credentials_by_user ON credentials (user_id, created_at)`);
    await queryRunner.query(`
      CREATE TABLE totp_seeds (
        credential_id   UUID     PRIMARY KEY,
        user_id         TEXT     NOT NULL,
        seed_ciphertext TEXT     NOT NULL,
        algorithm       TEXT     NOT NULL,
        digits          SMALLINT NOT NULL,
        period          SMALLINT NOT NULL,
        confirmed       BOOLEAN  NOT NULL DEFAULT false,
        last_step       BIGINT
      )`);
    await queryRunner.query(`CREATE INDEX totp_seeds_by_user ON totp_seeds (user_id)`);
    await queryRunner.query(`
      CREATE TABLE webauthn_keys (
        credential_id UUID    PRIMARY KEY,
        user_id       TEXT    NOT NULL,
        webauthn_id   TEXT    NOT NULL UNIQUE,
        public_key    BYTEA   NOT NULL,
        sign_count    BIGINT  NOT NULL,
        transports    TEXT[]  NOT NULL DEFAULT '{}',
        aaguid        TEXT    NOT NULL,
        device_bound  BOOLEAN NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX webauthn_keys_by_user ON webauthn_keys (user_id)`);
    await queryRunner.query(`
      CREATE TABLE webauthn_challenges (
        challenge_id UUID        PRIMARY KEY,
        user_id      TEXT        NOT NULL,
        ceremony     TEXT        NOT NULL CHECK (ceremony IN ('registration', 'authentication')),
        challenge    TEXT        NOT NULL,
        expires_at   TIMESTAMPTZ NOT NULL,
        consumed_at  TIMESTAMPTZ
      )`);
    await queryRunner.query(`CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at)`);
    await queryRunner.query(`
      CREATE TABLE backup_codes (
        credential_id UUID        NOT NULL,
        user_id       TEXT        NOT NULL,
        code_index    TEXT        NOT NULL,
        salt          BYTEA       NOT NULL,
        hash          BYTEA       NOT NULL,
        kdf           JSONB       NOT NULL,
        used_at       TIMESTAMPTZ,
        PRIMARY KEY (credential_id, code_index)
      )`);
    await queryRunner.query(`CREATE INDEX backup_codes_by_user ON backup_codes (user_id, code_index)`);
    await queryRunner.query(`
      CREATE TABLE oob_channels (
        credential_id          UUID PRIMARY KEY,
        user_id                TEXT NOT NULL,
        channel                TEXT NOT NULL CHECK (channel IN ('email_otp', 'sms_otp')),
        destination_ciphertext TEXT NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX oob_channels_by_user ON oob_channels (user_id)`);
    await queryRunner.query(`
      CREATE TABLE oob_codes (
        code_id       UUID        PRIMARY KEY,
        credential_id UUID        NOT NULL,
        user_id       TEXT        NOT NULL,
        channel       TEXT        NOT NULL,
        digits        SMALLINT    NOT NULL,
        salt          BYTEA       NOT NULL,
        mac           BYTEA       NOT NULL,
        issued_at     TIMESTAMPTZ NOT NULL,
        expires_at    TIMESTAMPTZ NOT NULL,
        consumed_at   TIMESTAMPTZ
      )`);
    await queryRunner.query(`CREATE INDEX oob_codes_by_credential ON oob_codes (credential_id, issued_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE address_failures (
        address   TEXT        NOT NULL,
        failed_at TIMESTAMPTZ NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX address_failures_lookup ON address_failures (address, failed_at)`);
    await queryRunner.query(`
      CREATE TABLE temporary_access_passes (
        pass_id         UUID        PRIMARY KEY,
        user_id         TEXT        NOT NULL,
        recovery_id     TEXT        NOT NULL,
        idempotency_key TEXT        NOT NULL,
        salt            BYTEA       NOT NULL,
        mac             BYTEA       NOT NULL,
        issued_at       TIMESTAMPTZ NOT NULL,
        expires_at      TIMESTAMPTZ NOT NULL,
        used_at         TIMESTAMPTZ,
        revoked_at      TIMESTAMPTZ,
        CONSTRAINT temporary_access_passes_idempotency UNIQUE (user_id, idempotency_key)
      )`);
    await queryRunner.query(`CREATE INDEX temporary_access_passes_by_user ON temporary_access_passes (user_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'temporary_access_passes', 'address_failures', 'oob_codes', 'oob_channels', 'backup_codes',
      'webauthn_challenges', 'webauthn_keys', 'totp_seeds', 'credentials',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
