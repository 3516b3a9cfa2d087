import { Inject, Injectable } from '@nestjs/common';
import { type Decider, DomainError, fold } from '@tessera/event-sourcing';
import { CommandHandler, PostgresEventStore, type StoredEvent } from '@tessera/event-store';
import {
  incidentDecider,
  type IncidentCommand,
  type IncidentEvent,
  type IncidentState,
  isTerminal,
  nextDeadline,
  type RecoveryCommand,
  recoveryDecider,
  type RecoveryEvent,
  type RecoveryPolicy,
  type RecoveryState,
  rulesOf,
} from '@tessera/recovery-domain';
import type { IncidentStep, IncidentView, RecoveryStep, RecoveryView, StepActor } from '@tessera/recovery-workflows';
import type { EntityManager } from 'typeorm';
import { PolicyRegistry } from '../policy/policy-registry';

export const recoveryStreamId = (recoveryId: string): string => `recovery-${recoveryId}`;
export const incidentStreamId = (incidentId: string): string => `incident-${incidentId}`;

/** What the activities need of the ledger (an in-memory one runs the same deciders in workflow tests). */
export interface RecoveryLedgerPort {
  view(recoveryId: string): Promise<RecoveryView>;
  applyStep(recoveryId: string, policyVersion: string, step: RecoveryStep, context: StepContext): Promise<RecoveryView>;
  incidentView(incidentId: string): Promise<IncidentView>;
  applyIncidentStep(incidentId: string, step: IncidentStep, context: StepContext): Promise<IncidentView>;
}

export interface StepContext {
  readonly now: Date;
  readonly actor: StepActor;
  readonly correlationId: string;
  /** Identifies the attempt (workflow run + activity id): a retried activity whose step was stored gets the stored result, not a second decision. */
  readonly causationId?: string;
  readonly alsoInTransaction?: (manager: EntityManager, events: readonly StoredEvent[]) => Promise<void>;
}

/**
 * The recovery and incident streams: load → decide → append in one transaction (the decider is the
 * only judge), and the view the workflows wait on.
 */
@Injectable()
export class RecoveryLedger implements RecoveryLedgerPort {
  constructor(
    @Inject(CommandHandler) private readonly commands: CommandHandler,
    @Inject(PostgresEventStore) private readonly store: PostgresEventStore,
    @Inject(PolicyRegistry) private readonly policies: PolicyRegistry,
  ) {}

  async loadRecovery(recoveryId: string): Promise<{ state: RecoveryState; events: readonly StoredEvent[] }> {
    const { events } = await this.store.readStream(recoveryStreamId(recoveryId));
    return { state: fold(recoveryDecider, events as unknown as RecoveryEvent[]), events };
  }

  async view(recoveryId: string): Promise<RecoveryView> {
    const { state } = await this.loadRecovery(recoveryId);
    return this.toView(state, recoveryId);
  }

  async decide(recoveryId: string, userId: string, command: RecoveryCommand, context: StepContext): Promise<RecoveryState> {
    const streamId = recoveryStreamId(recoveryId);
    if (context.causationId && (await this.alreadyDone(streamId, context.causationId))) return (await this.loadRecovery(recoveryId)).state;
    const result = await this.commands.handle(recoveryDecider as Decider<RecoveryCommand, RecoveryEvent, RecoveryState>, command, {
      streamId,
      partitionKey: userId,
      metadata: { actor: context.actor, correlationId: context.correlationId, causationId: context.causationId ?? null },
      now: context.now,
      alsoInTransaction: context.alsoInTransaction,
    });
    return result.state;
  }

  /** One workflow step: the command with the recovery's own policy version and the workflow's time. */
  async applyStep(recoveryId: string, policyVersion: string, step: RecoveryStep, context: StepContext): Promise<RecoveryView> {
    const { state } = await this.loadRecovery(recoveryId);
    if (state.status === 'not-requested') throw new DomainError('recovery_not_found', 'No such recovery', 'not_found');
    const policy = this.policies.get(policyVersion);
    const command = toCommand(recoveryId, step, { now: context.now, policy });
    const next = await this.decide(recoveryId, state.userId, command, context);
    return this.toView(next, recoveryId);
  }

  toView(state: RecoveryState, recoveryId: string): RecoveryView {
    return recoveryView(state, recoveryId, (version) => this.policies.get(version));
  }

  // ---- incidents ----

  async loadIncident(incidentId: string): Promise<{ state: IncidentState; events: readonly StoredEvent[] }> {
    const { events } = await this.store.readStream(incidentStreamId(incidentId));
    return { state: fold(incidentDecider, events as unknown as IncidentEvent[]), events };
  }

  async incidentView(incidentId: string): Promise<IncidentView> {
    return incidentView(incidentId, (await this.loadIncident(incidentId)).state);
  }

  async applyIncidentStep(incidentId: string, step: IncidentStep, context: StepContext): Promise<IncidentView> {
    const streamId = incidentStreamId(incidentId);
    let state: IncidentState;
    if (context.causationId && (await this.alreadyDone(streamId, context.causationId))) {
      state = (await this.loadIncident(incidentId)).state;
    } else {
      const command = { type: step.type, data: { ...step, incidentId }, metadata: { now: context.now } } as unknown as IncidentCommand;
      const { state: known } = await this.loadIncident(incidentId);
      const userId = known.status === 'none' ? (step.type === 'ReportSuspectedCompromise' ? step.userId : '') : known.userId;
      const result = await this.commands.handle(incidentDecider, command, {
        streamId,
        partitionKey: userId,
        metadata: { actor: context.actor, correlationId: context.correlationId, causationId: context.causationId ?? null },
        now: context.now,
        alsoInTransaction: context.alsoInTransaction,
      });
      state = result.state;
    }
    return incidentView(incidentId, state);
  }

  private async alreadyDone(streamId: string, causationId: string): Promise<boolean> {
    const { events } = await this.store.readStream(streamId);
    return events.some((event) => event.causationId === causationId);
  }
}

export function incidentView(incidentId: string, state: IncidentState): IncidentView {
  if (state.status === 'none') return { incidentId, userId: '', status: 'none', forcedRecoveryId: null, revokedDeviceIds: [], onCallPaged: false };
  return {
    incidentId: state.incidentId,
    userId: state.userId,
    status: state.status,
    forcedRecoveryId: state.status === 'recovery-forced' ? state.forcedRecoveryId : null,
    revokedDeviceIds: [...state.revokedDeviceIds],
    onCallPaged: state.onCallPagedAt !== null,
  };
}

/** A workflow step as the domain command (instants become Dates again). */
export function toCommand(recoveryId: string, step: RecoveryStep, metadata: { now: Date; policy: RecoveryPolicy }): RecoveryCommand {
  switch (step.type) {
    case 'CancelRecovery': {
      const { proof } = step;
      const data =
        proof.via === 'step-up'
          ? { via: proof.via, stepUp: { ...proof.stepUp, verifiedAt: new Date(proof.stepUp.verifiedAt) } }
          : proof.via === 'wasnt-me-link'
            ? { via: proof.via, link: { ...proof.link, expiresAt: new Date(proof.link.expiresAt) } }
            : { via: proof.via, incidentId: proof.incidentId };
      return { type: 'CancelRecovery', data: { ...data, recoveryId }, metadata } as RecoveryCommand;
    }
    default: {
      const { type, ...rest } = step;
      return { type, data: { ...rest, recoveryId }, metadata } as RecoveryCommand;
    }
  }
}

/** A recovery as the workflow sees it: the decider's state, what it waits for next, what it must take back. */
export function recoveryView(state: RecoveryState, recoveryId: string, policyOf: (version: string) => RecoveryPolicy): RecoveryView {
  if (state.status === 'not-requested') {
    return {
      recoveryId,
      userId: '',
      kind: 'assisted',
      status: 'not-requested',
      policyVersion: '',
      next: { kind: 'done' },
      approvals: 0,
      requiredApprovals: 0,
      passId: null,
      passRedeemed: false,
      passLifetimeMs: 0,
      coolingOffEndsAt: null,
      review: 'not-required',
      reviewReminderIntervalMs: 0,
      drillId: null,
      cancellation: null,
      toRevoke: { passId: null, factorIds: [] },
      revokedFactorIds: [],
    };
  }
  const policy: RecoveryPolicy = policyOf(state.policyVersion);
  const rules = rulesOf(policy, state);
  const pass = 'pass' in state && state.pass ? state.pass : null;
  const enrolled = 'enrolledFactorIds' in state && state.enrolledFactorIds ? state.enrolledFactorIds : [];
  return {
    recoveryId: state.recoveryId,
    userId: state.userId,
    kind: state.kind,
    status: state.status,
    policyVersion: state.policyVersion,
    next: nextDeadline(state, policy),
    approvals: 'approvals' in state && state.approvals ? state.approvals.length : 0,
    requiredApprovals: state.requiredApprovals,
    passId: pass?.passId ?? null,
    passRedeemed: pass !== null && pass.redeemedAt !== null,
    passLifetimeMs: rules.passLifetimeMs,
    coolingOffEndsAt: 'coolingOff' in state && state.coolingOff ? state.coolingOff.endsAt : null,
    review: state.review,
    reviewReminderIntervalMs: rules.approvalReminderIntervalMs,
    drillId: state.drillId,
    cancellation: state.status === 'cancelled' ? { via: state.cancelledVia, incidentSuspected: state.incidentSuspected } : null,
    // A completed recovery keeps what it handed out; an ended one takes back its pass and, if cancelled, the factors it enrolled.
    toRevoke:
      isTerminal(state) && state.status !== 'completed'
        ? { passId: pass?.passId ?? null, factorIds: state.status === 'cancelled' ? [...enrolled] : [] }
        : { passId: null, factorIds: [] },
    revokedFactorIds: 'revokedFactorIds' in state && state.revokedFactorIds ? [...state.revokedFactorIds] : [],
  };
}
