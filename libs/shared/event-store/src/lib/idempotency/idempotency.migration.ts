import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys of mutating calls (DESIGN.md: "every mutating call takes an idempotency key; a
 * retry never doubles an effect"). One row per (caller, key): the request fingerprint and, once done,
 * the response to replay. Responses that carry a secret are never stored (S29).
 */
export class IdempotencySchema1732752100000 implements MigrationInterface {
  name = 'IdempotencySchema1732752100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        caller          TEXT        NOT NULL,
        key             TEXT        NOT NULL,
        fingerprint     TEXT        NOT NULL,
        state           TEXT        NOT NULL CHECK (state IN ('in_progress', 'completed')),
        response_status INTEGER,
        response_body   JSONB,
        secret_withheld BOOLEAN     NOT NULL DEFAULT false,
        created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
        completed_at    TIMESTAMPTZ,
        PRIMARY KEY (caller, key)
      )`);
    await queryRunner.query(`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE idempotency_keys`);
  }
}
