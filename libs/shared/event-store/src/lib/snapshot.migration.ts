import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Snapshots of event-sourced state, opt-in per decider (CommandHandler.enableSnapshots): one row per
 * stream holding the folded state at `version`, so loading a long stream reads the snapshot and the
 * events after it instead of the whole history. A snapshot is only a cache of the fold — the events stay
 * the truth: a row whose `codec` no longer matches the decider's (the state's shape changed) is ignored
 * and replaced, and deleting every row is always safe. Written in the transaction (or the statement) of
 * the append it reflects, so it is never ahead of the events.
 */
export class StreamSnapshots1732752200000 implements MigrationInterface {
  name = 'StreamSnapshots1732752200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE stream_snapshots (
        stream_id TEXT        PRIMARY KEY,
        version   INTEGER     NOT NULL CHECK (version > 0),
        codec     TEXT        NOT NULL,
        state     JSONB       NOT NULL,
        taken_at  TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE stream_snapshots`);
  }
}
