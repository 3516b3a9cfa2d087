import { Injectable } from '@nestjs/common';
import type { InlineProjection, StoredEvent } from '@tessera/event-store';
import type { EntityManager } from 'typeorm';

/** The fields of recovery-topic events this projection reads (validated against their contracts before they are stored). */
interface EventFields {
  readonly recoveryId: string;
  readonly incidentId: string;
  readonly drillId: string | null;
  readonly userId: string;
  readonly kind: string;
  readonly policyVersion: string;
  readonly requestedBy: { readonly id: string };
  readonly requestedAt: string;
  readonly requiredApprovals: number;
  readonly postIncidentReviewRequired: boolean;
  readonly forcedByIncidentId: string | null;
  readonly outcome: string;
  readonly approvalsSoFar: number;
  readonly source: string;
  readonly openedAt: string;
  readonly reason?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
}

/** The status a recovery event moves its recovery to (RecoveryApproved and the review keep it). */
const STATUS_AFTER: Readonly<Record<string, string>> = {
  RecoveryCoolingOffStarted: 'cooling-off',
  TemporaryAccessPassIssued: 'pass-issued',
  RecoveryFactorEnrolled: 'enrolled',
  RecoveryOldFactorsRevoked: 'restricted',
  RecoveryCompleted: 'completed',
  RecoveryCancelled: 'cancelled',
  RecoveryRejected: 'rejected',
  RecoveryExpired: 'expired',
};

const INCIDENT_STATUS_AFTER: Readonly<Record<string, string>> = {
  AccountFrozen: 'frozen',
  AssistedRecoveryForced: 'recovery-forced',
  AccountUnfrozen: 'unfrozen',
};

/**
 * Keeps `recoveries`, `incidents` and `drills` in step with the events, in the append's transaction:
 * a list never shows a recovery its events do not, and the one-active-recovery and one-open-incident
 * indexes refuse a second one in the very transaction that would store it.
 */
@Injectable()
export class RecoveryReadModelProjection implements InlineProjection {
  readonly name = 'recovery-read-model';

  async apply(events: readonly StoredEvent[], manager: EntityManager): Promise<void> {
    for (const event of events) {
      const data = event.data as unknown as EventFields;
      const at = event.occurredAt;
      switch (event.type) {
        case 'RecoveryRequested':
          await manager.query(
            `INSERT INTO recoveries (recovery_id, user_id, kind, status, policy_version, requested_by, requested_at, updated_at, required_approvals, review, drill_id, forced_by_incident_id)
             VALUES ($1, $2, $3, 'awaiting-evidence', $4, $5, $6, $6, $7, $8, $9, $10)`,
            [
              data.recoveryId,
              data.userId,
              data.kind,
              data.policyVersion,
              data.requestedBy.id,
              data.requestedAt,
              data.requiredApprovals,
              data.postIncidentReviewRequired ? 'open' : 'not-required',
              data.drillId,
              data.forcedByIncidentId,
            ],
          );
          break;
        case 'RecoveryEvidenceRecorded':
          if (data.outcome === 'passed') await this.setStatus(manager, data.recoveryId, 'awaiting-approval', at);
          break;
        case 'RecoveryApproved':
          await manager.query(`UPDATE recoveries SET approvals = $2, updated_at = $3 WHERE recovery_id = $1`, [data.recoveryId, data.approvalsSoFar, at]);
          break;
        case 'PostIncidentReviewClosed':
          await manager.query(`UPDATE recoveries SET review = 'closed', updated_at = $2 WHERE recovery_id = $1`, [data.recoveryId, at]);
          break;
        case 'IncidentOpened':
          await manager.query(
            `INSERT INTO incidents (incident_id, user_id, status, source, recovery_id, opened_at, updated_at) VALUES ($1, $2, 'opened', $3, $4, $5, $5)`,
            [data.incidentId, data.userId, data.source, data.recoveryId, data.openedAt],
          );
          break;
        case 'RecoveryDrillSucceeded':
        case 'RecoveryDrillFailed':
          await manager.query(
            `INSERT INTO drills (drill_id, recovery_id, user_id, outcome, reason, policy_version, started_at, finished_at, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (drill_id) DO NOTHING`,
            [
              data.drillId,
              data.recoveryId,
              data.userId,
              event.type === 'RecoveryDrillSucceeded' ? 'succeeded' : 'failed',
              data.reason ?? null,
              data.policyVersion,
              data.startedAt,
              data.finishedAt,
              data.durationMs,
            ],
          );
          break;
        default:
          if (STATUS_AFTER[event.type]) await this.setStatus(manager, data.recoveryId, STATUS_AFTER[event.type], at);
          else if (INCIDENT_STATUS_AFTER[event.type]) {
            await manager.query(`UPDATE incidents SET status = $2, forced_recovery_id = coalesce($3, forced_recovery_id), updated_at = $4 WHERE incident_id = $1`, [
              data.incidentId,
              INCIDENT_STATUS_AFTER[event.type],
              event.type === 'AssistedRecoveryForced' ? data.recoveryId : null,
              at,
            ]);
          }
      }
    }
  }

  private async setStatus(manager: EntityManager, recoveryId: string, status: string, at: string): Promise<void> {
    await manager.query(`UPDATE recoveries SET status = $2, updated_at = $3 WHERE recovery_id = $1`, [recoveryId, status, at]);
  }
}
