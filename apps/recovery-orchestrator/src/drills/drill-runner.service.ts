import { Inject, Injectable } from '@nestjs/common';
import { type Client } from '@temporalio/client';
import { DomainError } from '@tessera/event-sourcing';
import { CommandHandler } from '@tessera/event-store';
import { CONFIG, Metrics } from '@tessera/platform';
import { drillOutcome, type DrillPlan, type RecoveryDrillEvent, planDrill } from '@tessera/recovery-domain';
import { recordEvidenceUpdate, recoveryStepUpdate, recoveryWorkflowId, type StepActor } from '@tessera/recovery-workflows';
import { Counter, Histogram } from 'prom-client';
import { PolicyRegistry } from '../policy/policy-registry';
import { RecoveryLedger } from '../recoveries/recovery-ledger';
import { RecoveryStarter } from '../recoveries/recovery-starter';
import type { RecoveryOrchestratorConfig } from '../service';
import type { DrillRunner } from '../temporal/recovery.activities';
import { TEMPORAL_CLIENT } from '../temporal/temporal.tokens';

const DRILL_HELPDESK: StepActor = { kind: 'helpdesk', id: 'drill-helpdesk' };
const drillOfficer = (n: number): StepActor => ({ kind: 'security-officer', id: `drill-officer-${n}` });

/** One event per drill, recorded once: the stream `drill-<id>` holds at most its outcome. */
const drillDecider = {
  decide: (event: RecoveryDrillEvent, state: RecoveryDrillEvent[]) => (state.length === 0 ? [event] : []),
  evolve: (state: RecoveryDrillEvent[], event: RecoveryDrillEvent) => [...state, event],
  initialState: (): RecoveryDrillEvent[] => [],
};

/**
 * The people of a drill's recovery, played by synthetic staff, and the record of its outcome as an
 * event (RecoveryDrillSucceeded / RecoveryDrillFailed) and as metrics.
 */
@Injectable()
export class DrillRunnerService implements DrillRunner {
  private readonly outcomes: Counter;
  private readonly durations: Histogram;

  constructor(
    @Inject(RecoveryStarter) private readonly starter: RecoveryStarter,
    @Inject(RecoveryLedger) private readonly ledger: RecoveryLedger,
    @Inject(PolicyRegistry) private readonly policies: PolicyRegistry,
    @Inject(CommandHandler) private readonly commands: CommandHandler,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
    @Inject(Metrics) metrics: Metrics,
  ) {
    this.outcomes = new Counter({ name: 'tessera_recovery_drills_total', help: 'Recovery drills by outcome', labelNames: ['outcome'], registers: [metrics.registry] });
    this.durations = new Histogram({
      name: 'tessera_recovery_drill_duration_seconds',
      help: 'How long a recovery drill took, end to end (shortened timers)',
      buckets: [30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: [metrics.registry],
    });
  }

  private plan(drillId: string, recoveryId: string, userId: string, policyVersion: string, now: Date): DrillPlan {
    return planDrill({ drillId, recoveryId, userId, syntheticTestAccount: this.config.SYNTHETIC_TEST_ACCOUNTS.includes(userId), policy: this.policies.get(policyVersion), now });
  }

  async start(drillId: string, now: Date) {
    const userId = this.config.DRILL_USER_ID;
    if (!userId) throw new DomainError('drills_not_configured', 'Set DRILL_USER_ID (and list it in SYNTHETIC_TEST_ACCOUNTS) to run drills', 'invalid');
    const policyVersion = `${this.policies.currentVersion}+drill.${this.config.DRILL_TIMER_FACTOR}`;
    const recoveryId = `drill-${drillId}`;
    const plan = this.plan(drillId, recoveryId, userId, policyVersion, now);
    const { state } = await this.ledger.loadRecovery(recoveryId);
    if (state.status === 'not-requested') {
      await this.starter.start(
        {
          recoveryId,
          userId,
          kind: 'assisted',
          requestedBy: { kind: 'helpdesk', id: DRILL_HELPDESK.id, ticketReference: `drill-${drillId}` },
          actor: DRILL_HELPDESK,
          correlationId: drillId,
          reason: `recovery drill ${drillId}`,
          riskSignals: [],
          lostFactorIds: [],
          subjectGroups: [],
          drill: { drillId, policyVersion },
          startWorkflow: false,
        },
        now,
      );
    }
    return { recoveryId, userId, policyVersion, deadline: plan.deadline };
  }

  async drive(input: { drillId: string; recoveryId: string; userId: string; stage: 'evidence-and-approvals' | 'enrolment'; passId?: string }): Promise<void> {
    const handle = this.temporal.workflow.getHandle(recoveryWorkflowId(input.userId));
    const view = await this.ledger.view(input.recoveryId);
    if (input.stage === 'evidence-and-approvals') {
      if (view.status === 'awaiting-evidence') {
        await handle.executeUpdate(recordEvidenceUpdate, {
          args: [{ actor: DRILL_HELPDESK, correlationId: input.drillId, verifier: { kind: 'helpdesk-attestation', reference: `drill-${input.drillId}`, attestedBy: DRILL_HELPDESK.id, outcome: 'passed' } }],
        });
      }
      const now = await this.ledger.view(input.recoveryId);
      for (let n = now.approvals + 1; n <= now.requiredApprovals; n++) {
        const officer = drillOfficer(n);
        await handle.executeUpdate(recoveryStepUpdate, {
          args: [{ actor: officer, correlationId: input.drillId, step: { type: 'ApproveRecovery', approverId: officer.id, approverRoles: ['security-officer'], reason: `drill ${input.drillId}` } }],
        });
      }
      return;
    }
    // The recovery signalled its drill that the pass is out; use it at once, as auth-service would.
    const current = await this.ledger.view(input.recoveryId);
    if (current.status !== 'pass-issued' || current.passId === null || current.passId !== input.passId) return;
    const system: StepActor = { kind: 'service', id: 'drill-auth' };
    if (!current.passRedeemed) {
      await handle.executeUpdate(recoveryStepUpdate, { args: [{ actor: system, correlationId: input.drillId, step: { type: 'RedeemTemporaryAccessPass', passId: current.passId } }] });
    }
    await handle.executeUpdate(recoveryStepUpdate, {
      args: [{ actor: system, correlationId: input.drillId, step: { type: 'RecordEnrolment', passId: current.passId, factorId: `drill-factor-${input.drillId}`, factorKind: 'totp' } }],
    });
  }

  async record(drillId: string, recoveryId: string, now: Date) {
    const { state, events } = await this.ledger.loadRecovery(recoveryId);
    if (state.status === 'not-requested') throw new DomainError('recovery_not_found', 'The drill has no recovery', 'not_found');
    const startedAt = new Date(events[0].occurredAt);
    const plan = this.plan(drillId, recoveryId, state.userId, state.policyVersion, startedAt);
    // Still running when the drill gives up: it failed, at the stage it reached.
    const outcome = drillOutcome(plan, state, now) ?? drillOutcome(plan, state, new Date(Math.max(now.getTime(), Date.parse(plan.deadline))));
    if (!outcome) throw new Error('a drill outcome is always known at its deadline');
    const result = await this.commands.handle(drillDecider, outcome, {
      streamId: `drill-${drillId}`,
      partitionKey: state.userId,
      metadata: { actor: { kind: 'system', id: 'recovery-drill' }, correlationId: drillId },
      now,
    });
    const recorded = result.state[0];
    if (result.events.length > 0) {
      this.outcomes.inc({ outcome: recorded.type === 'RecoveryDrillSucceeded' ? 'succeeded' : 'failed' });
      this.durations.observe(recorded.data.durationMs / 1000);
    }
    return {
      drillId,
      recoveryId,
      outcome: recorded.type === 'RecoveryDrillSucceeded' ? ('succeeded' as const) : ('failed' as const),
      reason: recorded.type === 'RecoveryDrillFailed' ? recorded.data.reason : null,
    };
  }
}
