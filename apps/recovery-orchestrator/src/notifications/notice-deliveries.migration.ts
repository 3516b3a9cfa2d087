import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `notice_deliveries`: one row per security notice accepted by one address's channel, keyed by the
 * per-address idempotency key (`<notice key>~<16 hex of a hash of kind and address>`: no address in
 * clear). It is written outside the transaction of the consumer or activity that sends, so a retry
 * after a partial failure sends only to the addresses that failed (S22, R1).
 */
export class NoticeDeliveries1733100000000 implements MigrationInterface {
  name = 'NoticeDeliveries1733100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE notice_deliveries (
        delivery_key TEXT        PRIMARY KEY,
        delivered_at TIMESTAMPTZ NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX notice_deliveries_by_time ON notice_deliveries (delivered_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notice_deliveries`);
  }
}
