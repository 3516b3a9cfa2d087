import type { DataSource } from 'typeorm';
import type { NoticeDeliveryLedger } from '../ports/ports';

/** How long delivered sends are remembered: past any retry, redelivery or topic retention (14 days). */
const KEEP_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * `NoticeDeliveryLedger` on the orchestrator's database, through the pool rather than a caller's
 * transaction: a record must survive the rollback of the consumer batch or activity that retries.
 */
export class PostgresNoticeDeliveryLedger implements NoticeDeliveryLedger {
  constructor(private readonly dataSource: DataSource) {}

  async delivered(keys: readonly string[]): Promise<ReadonlySet<string>> {
    if (keys.length === 0) return new Set();
    const rows: { delivery_key: string }[] = await this.dataSource.query(`SELECT delivery_key FROM notice_deliveries WHERE delivery_key = ANY($1::text[])`, [keys]);
    return new Set(rows.map((row) => row.delivery_key));
  }

  async record(keys: readonly string[], at: Date): Promise<void> {
    if (keys.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO notice_deliveries (delivery_key, delivered_at) SELECT unnest($1::text[]), $2 ON CONFLICT (delivery_key) DO NOTHING`,
      [keys, at],
    );
    // Pruned as it goes (cheap on the index), so the table holds about a month of notices.
    await this.dataSource.query(`DELETE FROM notice_deliveries WHERE delivered_at < $1`, [new Date(at.getTime() - KEEP_MS)]);
  }
}
