// Test support: a drill runner over the in-memory ledger that plays the drill's people through the
// test environment's client, as the real DrillRunnerService does through the service's.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { fold } from '@tessera/event-sourcing';
import { DEFAULT_RECOVERY_POLICY, drillOutcome, drillPolicy, planDrill, recoveryDecider } from '@tessera/recovery-domain';
import { recordEvidenceUpdate, recoveryStepUpdate, recoveryWorkflowId, type StepActor } from '@tessera/recovery-workflows';
import type { DrillRunner } from '../temporal/recovery.activities';
import type { InMemoryLedger } from './in-memory-ledger';

export const DRILL = drillPolicy(DEFAULT_RECOVERY_POLICY, 1000);
const HELPDESK: StepActor = { kind: 'helpdesk', id: 'agent-1' };
const officer = (n: number): StepActor => ({ kind: 'security-officer', id: `officer-${n}` });

/** A drill runner over the in-memory ledger that plays the drill's people through the test client. */
export function drillRunner(env: TestWorkflowEnvironment, ledger: InMemoryLedger, options: { approvals?: number } = {}): DrillRunner {
  const userId = 'drill-synthetic-1';
  return {
    async start(drillId, now) {
      const recoveryId = `drill-${drillId}`;
      ledger.request({
        type: 'RequestRecovery',
        data: { recoveryId, userId, subjectGroups: [], syntheticTestAccount: true, kind: 'assisted', requestedBy: { kind: 'helpdesk', id: 'drill-helpdesk', ticketReference: `drill-${drillId}` }, riskSignals: [], lostFactorIds: [], accountFreeze: null, drillId },
        metadata: { now, policy: DRILL },
      });
      const plan = planDrill({ drillId, recoveryId, userId, syntheticTestAccount: true, policy: DRILL, now });
      return { recoveryId, userId, policyVersion: DRILL.policyVersion, deadline: plan.deadline };
    },
    async drive(input) {
      const handle = env.client.workflow.getHandle(recoveryWorkflowId(input.userId));
      if (input.stage === 'evidence-and-approvals') {
        await handle.executeUpdate(recordEvidenceUpdate, { args: [{ actor: HELPDESK, correlationId: input.drillId, verifier: { kind: 'helpdesk-attestation', reference: 'drill', attestedBy: 'drill-helpdesk', outcome: 'passed' } }] });
        for (let n = 1; n <= (options.approvals ?? 2); n++) {
          await handle.executeUpdate(recoveryStepUpdate, { args: [{ actor: officer(n), correlationId: input.drillId, step: { type: 'ApproveRecovery', approverId: `drill-officer-${n}`, approverRoles: ['security-officer'], reason: 'drill' } }] });
        }
        return;
      }
      const view = { passId: input.passId ?? null };
      if (!view.passId) throw new Error('the enrolment stage needs the pass id');
      const auth: StepActor = { kind: 'service', id: 'drill-auth' };
      await handle.executeUpdate(recoveryStepUpdate, { args: [{ actor: auth, correlationId: input.drillId, step: { type: 'RedeemTemporaryAccessPass', passId: view.passId! } }] });
      await handle.executeUpdate(recoveryStepUpdate, { args: [{ actor: auth, correlationId: input.drillId, step: { type: 'RecordEnrolment', passId: view.passId!, factorId: 'drill-factor', factorKind: 'totp' } }] });
    },
    async record(drillId, recoveryId, now) {
      const state = fold(recoveryDecider, ledger.events(recoveryId));
      const startedAt = new Date(Date.parse((ledger.events(recoveryId)[0] as { data: { requestedAt: string } }).data.requestedAt));
      const plan = planDrill({ drillId, recoveryId, userId, syntheticTestAccount: true, policy: DRILL, now: startedAt });
      const outcome = drillOutcome(plan, state, now) ?? drillOutcome(plan, state, new Date(plan.deadline))!;
      return { drillId, recoveryId, outcome: outcome.type === 'RecoveryDrillSucceeded' ? 'succeeded' : 'failed', reason: outcome.type === 'RecoveryDrillFailed' ? outcome.data.reason : null };
    },
  };
}

