import { Inject, Injectable } from '@nestjs/common';
import { type EventMetadata, type ReadinessFinding, type ReadinessLevel, deviceStreamId } from '@tessera/contracts';
import {
  type BackupMethods,
  DEFAULT_READINESS_POLICY,
  type ReadinessPolicy,
  assessReadiness,
  backupCodesRemaining,
  backupMethods,
  readinessDrop,
  readinessFactorsOutsideDevices,
  readinessInputFromDevices,
} from '@tessera/device-domain';
import { PostgresEventStore } from '@tessera/event-store';
import { DATA_SOURCE } from '@tessera/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { CredentialFactsRepository } from './credential-facts.repository';
import { DeviceViewsRepository } from './device-views.repository';

export interface ReadinessReport {
  readonly userId: string;
  readonly level: ReadinessLevel;
  readonly score: number;
  readonly findings: readonly ReadinessFinding[];
  readonly backupMethods: BackupMethods;
  readonly assessedAt: string;
}

/**
 * Recovery readiness per user (issue: findings, a summary level, an event when it drops). The rules are
 * @tessera/device-domain's; this class gathers their facts from the read models and keeps the last
 * level in `readiness_levels`, so that `RecoveryReadinessDropped` is appended — in the transaction of
 * the change that caused it — exactly when the level gets worse.
 */
@Injectable()
export class ReadinessAssessor {
  /** The domain's default policy (three codes are "few", a vault backup is stale after 90 days). */
  readonly policy: ReadinessPolicy = DEFAULT_READINESS_POLICY;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(PostgresEventStore) private readonly store: PostgresEventStore,
    @Inject(DeviceViewsRepository) private readonly views: DeviceViewsRepository,
    @Inject(CredentialFactsRepository) private readonly facts: CredentialFactsRepository,
  ) {}

  async assess(userId: string, now: Date, manager: EntityManager = this.dataSource.manager): Promise<ReadinessReport> {
    const state = await this.views.userState(userId, manager);
    const facts = await this.facts.listByUser(userId, manager);
    const input = readinessInputFromDevices(state, {
      backupCodesRemaining: backupCodesRemaining(facts),
      otherFactors: readinessFactorsOutsideDevices(state, facts),
      now,
    });
    const assessment = assessReadiness(input, this.policy);
    return {
      userId,
      level: assessment.level,
      score: assessment.score,
      findings: assessment.findings,
      backupMethods: backupMethods(input, assessment, this.policy),
      assessedAt: now.toISOString(),
    };
  }

  /**
   * Assesses again after a change, inside the change's transaction: appends `RecoveryReadinessDropped`
   * when the level fell since the last assessment, and records the new level. Concurrent changes for
   * the same user meet at the stream's version (R5): the loser is retried and then sees the new level.
   */
  async reassess(manager: EntityManager, userId: string, now: Date, metadata: EventMetadata): Promise<ReadinessReport> {
    const report = await this.assess(userId, now, manager);
    const previous: { level: ReadinessLevel }[] = await manager.query(`SELECT level FROM readiness_levels WHERE user_id = $1 FOR UPDATE`, [userId]);
    const drop = readinessDrop(previous[0]?.level ?? null, report, { userId, now });
    if (drop) {
      const streamId = deviceStreamId(userId);
      const [{ version }]: { version: number }[] = await manager.query(
        `SELECT coalesce(max(stream_version), 0)::int AS version FROM events WHERE stream_id = $1`,
        [streamId],
      );
      await this.store.append(manager, streamId, version, [drop], { partitionKey: userId, metadata, now });
    }
    await manager.query(
      `INSERT INTO readiness_levels (user_id, level, score, findings, assessed_at) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (user_id) DO UPDATE SET level = EXCLUDED.level, score = EXCLUDED.score, findings = EXCLUDED.findings, assessed_at = EXCLUDED.assessed_at`,
      [userId, report.level, report.score, JSON.stringify(report.findings), report.assessedAt],
    );
    return report;
  }
}
