// Test support: the recovery and incident deciders over in-memory streams, for workflow tests on the
// time-skipping server (STYLE.md allows typed fakes there). The rules are the real deciders'.
import { DomainError, fold } from '@tessera/event-sourcing';
import {
  DEFAULT_RECOVERY_POLICY,
  decide,
  decideIncident,
  evolveIncident,
  incidentDecider,
  type IncidentCommand,
  type IncidentEvent,
  initialIncidentState,
  type RecoveryEvent,
  recoveryDecider,
  type RecoveryPolicy,
  type RequestRecovery,
} from '@tessera/recovery-domain';
import type { IncidentStep, IncidentView, RecoveryStep, RecoveryView } from '@tessera/recovery-workflows';
import { incidentView, type RecoveryLedgerPort, recoveryView, type StepContext, toCommand } from '../recoveries/recovery-ledger';

export class InMemoryLedger implements RecoveryLedgerPort {
  readonly recoveries = new Map<string, { events: RecoveryEvent[]; causations: Set<string> }>();
  readonly incidents = new Map<string, { events: IncidentEvent[]; causations: Set<string> }>();
  /** Every step tried, in order, with its outcome: what a test asserts about the order of decisions. */
  readonly journal: { step: string; outcome: string }[] = [];

  constructor(readonly policies: ReadonlyMap<string, RecoveryPolicy> = new Map([[DEFAULT_RECOVERY_POLICY.policyVersion, DEFAULT_RECOVERY_POLICY]])) {}

  policyOf = (version: string): RecoveryPolicy => {
    const policy = this.policies.get(version);
    if (!policy) throw new DomainError('policy_unknown', version);
    return policy;
  };

  request(command: RequestRecovery): void {
    const stream = this.recoveries.get(command.data.recoveryId) ?? { events: [], causations: new Set<string>() };
    stream.events.push(...decide(command, fold(recoveryDecider, stream.events)));
    this.recoveries.set(command.data.recoveryId, stream);
  }

  events(recoveryId: string): readonly RecoveryEvent[] {
    return this.recoveries.get(recoveryId)?.events ?? [];
  }

  async view(recoveryId: string): Promise<RecoveryView> {
    return recoveryView(fold(recoveryDecider, this.events(recoveryId)), recoveryId, this.policyOf);
  }

  async applyStep(recoveryId: string, policyVersion: string, step: RecoveryStep, context: StepContext): Promise<RecoveryView> {
    const stream = this.recoveries.get(recoveryId);
    if (!stream) throw new DomainError('recovery_not_found', 'No such recovery', 'not_found');
    if (!(context.causationId && stream.causations.has(context.causationId))) {
      try {
        const decided = decide(toCommand(recoveryId, step, { now: context.now, policy: this.policyOf(policyVersion) }), fold(recoveryDecider, stream.events));
        stream.events.push(...decided);
        this.journal.push({ step: step.type, outcome: decided.map((event) => event.type).join('+') || 'no-op' });
      } catch (error) {
        this.journal.push({ step: step.type, outcome: error instanceof DomainError ? error.code : 'error' });
        throw error;
      }
      if (context.causationId) stream.causations.add(context.causationId);
    }
    return this.view(recoveryId);
  }

  async incidentView(incidentId: string): Promise<IncidentView> {
    return incidentView(incidentId, fold(incidentDecider, this.incidents.get(incidentId)?.events ?? []));
  }

  async applyIncidentStep(incidentId: string, step: IncidentStep, context: StepContext): Promise<IncidentView> {
    const stream = this.incidents.get(incidentId) ?? { events: [], causations: new Set<string>() };
    this.incidents.set(incidentId, stream);
    if (!(context.causationId && stream.causations.has(context.causationId))) {
      const command = { type: step.type, data: { ...step, incidentId }, metadata: { now: context.now } } as unknown as IncidentCommand;
      stream.events.push(...decideIncident(command, stream.events.reduce(evolveIncident, initialIncidentState())));
      if (context.causationId) stream.causations.add(context.causationId);
    }
    return this.incidentView(incidentId);
  }
}
