import { Inject, Injectable } from '@nestjs/common';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { type RiskSignal } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { isUniqueViolation } from '@tessera/event-store';
import { ApiError, CONFIG, LOGGER } from '@tessera/platform';
import { type AccountFreeze, type RecoveryRequester, type RecoveryState } from '@tessera/recovery-domain';
import { recoveryWorkflowId, SEARCH_ATTRIBUTES, type StepActor } from '@tessera/recovery-workflows';
import { uuidv7 } from '@tessera/util';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@tessera/platform';
import { PolicyRegistry } from '../policy/policy-registry';
import { AUTH_PORT, type AuthPort } from '../ports/ports';
import type { RecoveryOrchestratorConfig } from '../service';
import { TEMPORAL_CLIENT } from '../temporal/temporal.tokens';
import { RecoveryLedger } from './recovery-ledger';

export interface StartRecovery {
  readonly userId: string;
  readonly kind: 'assisted' | 'break-glass';
  readonly requestedBy: RecoveryRequester;
  readonly actor: StepActor;
  readonly correlationId: string;
  readonly reason: string;
  readonly riskSignals: readonly RiskSignal[];
  readonly lostFactorIds: readonly string[];
  readonly subjectGroups: readonly string[];
  readonly recoveryId?: string;
  readonly drill?: { readonly drillId: string; readonly policyVersion: string };
  /** A drill starts the recovery as its child workflow; everything else starts it here. */
  readonly startWorkflow?: boolean;
}

/** A factor bound this recently before the request is the pattern of a takeover being prepared. */
const RECENT_FACTOR_CHANGE_MS = 7 * 24 * 3_600_000;

/**
 * Starts a recovery: RecoveryRequested through the decider, the read-model row whose unique index
 * keeps one active recovery per user, and the workflow (id per user, conflict policy FAIL), all in
 * one transaction: if Temporal refuses the start, nothing is stored.
 */
@Injectable()
export class RecoveryStarter {
  constructor(
    @Inject(RecoveryLedger) private readonly ledger: RecoveryLedger,
    @Inject(PolicyRegistry) private readonly policies: PolicyRegistry,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(AUTH_PORT) private readonly auth: AuthPort,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async start(request: StartRecovery, now = new Date()): Promise<RecoveryState> {
    const recoveryId = request.recoveryId ?? uuidv7(now.getTime());
    const policy = this.policies.get(request.drill?.policyVersion ?? this.policies.currentVersion);
    const riskSignals = new Set<RiskSignal>(request.riskSignals);
    if (!request.drill && (await this.recentFactorChange(request.userId, now))) riskSignals.add('recent-factor-change');
    const command = {
      type: 'RequestRecovery' as const,
      data: {
        recoveryId,
        userId: request.userId,
        subjectGroups: request.subjectGroups,
        syntheticTestAccount: this.config.SYNTHETIC_TEST_ACCOUNTS.includes(request.userId),
        kind: request.kind,
        requestedBy: request.requestedBy,
        riskSignals: [...riskSignals],
        lostFactorIds: request.lostFactorIds,
        accountFreeze: await this.freezeOf(request.userId),
        drillId: request.drill?.drillId ?? null,
      },
      metadata: { now, policy },
    };
    try {
      return await this.ledger.decide(recoveryId, request.userId, command, {
        now,
        actor: request.actor,
        correlationId: request.correlationId,
        alsoInTransaction: async (manager) => {
          if (request.startWorkflow === false) return;
          const handle = await startOrExplain(() => this.temporal.workflow.start('recoveryWorkflow', {
            taskQueue: this.config.TEMPORAL_TASK_QUEUE,
            workflowId: recoveryWorkflowId(request.userId),
            workflowIdConflictPolicy: 'FAIL',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
            args: [{ recoveryId, userId: request.userId, kind: request.kind, policyVersion: policy.policyVersion, drillId: request.drill?.drillId ?? null }],
            typedSearchAttributes: [
              { key: SEARCH_ATTRIBUTES.userId, value: request.userId },
              { key: SEARCH_ATTRIBUTES.kind, value: request.kind },
              { key: SEARCH_ATTRIBUTES.state, value: 'awaiting-evidence' },
            ],
            // On-call reads why and under which rules in the Temporal UI; no secret and no contact detail goes here (S32).
            memo: { recoveryId, reason: request.reason, policyVersion: policy.policyVersion, requestedBy: `${request.requestedBy.kind}:${request.requestedBy.id}` },
          }));
          await manager.query(`UPDATE recoveries SET workflow_run_id = $2 WHERE recovery_id = $1`, [recoveryId, handle.firstExecutionRunId]);
        },
      });
    } catch (error) {
      if (isUniqueViolation(error, 'recoveries_one_active_per_user') || error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new DomainError('recovery_already_active', 'This user already has a recovery under way', 'conflict');
      }
      throw error;
    }
  }

  /** The open incident's freeze on the account, if any (DESIGN.md "Incident response"). */
  async freezeOf(userId: string): Promise<AccountFreeze | null> {
    const rows: { incident_id: string; forced_recovery_id: string | null }[] = await this.dataSource.query(
      `SELECT incident_id, forced_recovery_id FROM incidents WHERE user_id = $1 AND status <> 'unfrozen'`,
      [userId],
    );
    return rows.length === 0 ? null : { incidentId: rows[0].incident_id, forcedRecoveryId: rows[0].forced_recovery_id };
  }

  /**
   * The "recent factor change" risk signal, from auth-service's factor list. If auth-service cannot
   * say, the signal is assumed: a longer cooling-off is the safe way to be wrong.
   */
  private async recentFactorChange(userId: string, now: Date): Promise<boolean> {
    try {
      const { factors } = await this.auth.listFactors(userId);
      return factors.some((factor) => factor.createdAt !== null && now.getTime() - Date.parse(factor.createdAt) < RECENT_FACTOR_CHANGE_MS);
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'factor list unavailable; assuming a recent factor change');
      return true;
    }
  }
}

/** Starts a workflow; Temporal being unreachable is a 503 the caller can retry, not a 500. */
export async function startOrExplain<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw error;
    throw new ApiError(503, 'workflow_unavailable', 'The workflow service is unavailable; retry with the same Idempotency-Key.');
  }
}
