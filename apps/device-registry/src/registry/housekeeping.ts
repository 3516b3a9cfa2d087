import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DATA_SOURCE, LOGGER } from '@tessera/platform';
import { type Clock, uuidv7 } from '@tessera/util';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { CLOCK } from '../common/tokens';
import { ReadinessAssessor } from './readiness-assessor';

const EVERY_MS = 10 * 60_000;
const SWEEP_BATCH = 100;

/**
 * Work that time alone makes necessary, run by every instance (each step is idempotent, so running it
 * twice is harmless):
 * - a vault backup turns stale with age, with no event to say so: users whose backup has crossed the
 *   threshold since their last assessment are assessed again, so the drop is recorded and the user
 *   nudged;
 * - expired step-up uses and rate-limit windows older than a day are deleted.
 */
@Injectable()
export class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ReadinessAssessor) private readonly readiness: ReadinessAssessor,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  runOnce(): Promise<void> {
    this.running ??= this.sweep()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'housekeeping failed; it runs again later'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<void> {
    const now = this.clock.now();
    await this.dataSource.query(`DELETE FROM step_up_uses WHERE expires_at < $1`, [now]);
    await this.dataSource.query(`DELETE FROM rate_limits WHERE window_start < $1::timestamptz - interval '1 day'`, [now]);
    const stale: { user_id: string }[] = await this.dataSource.query(
      `SELECT r.user_id FROM readiness_levels r
         JOIN LATERAL (SELECT stored_at FROM vault_backups v WHERE v.user_id = r.user_id ORDER BY version DESC LIMIT 1) latest ON true
        WHERE NOT (r.findings ? 'vault_backup_stale') AND latest.stored_at < $1::timestamptz - make_interval(days => $2::int)
        LIMIT $3`,
      [now, this.readiness.policy.vaultStaleAfterDays, SWEEP_BATCH],
    );
    for (const { user_id: userId } of stale) {
      await this.dataSource.transaction((manager) =>
        this.readiness.reassess(manager, userId, now, { actor: { kind: 'system', id: 'device-registry' }, correlationId: uuidv7(), causationId: null }),
      );
    }
  }
}
