import { Inject, Injectable } from '@nestjs/common';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DomainError } from '@tessera/event-sourcing';
import { isUniqueViolation } from '@tessera/event-store';
import { ApiError, CONFIG, DATA_SOURCE, hasRole, type Principal, type Role } from '@tessera/platform';
import { publicRecoveryStartResponse } from '@tessera/recovery-domain';
import {
  decideIncidentUpdate,
  type IncidentView,
  incidentWorkflowId,
  recordEvidenceUpdate,
  recoveryStepUpdate,
  type RecoveryStep,
  type RecoveryView,
  recoveryWorkflowId,
  revokeIncidentDevicesUpdate,
  SEARCH_ATTRIBUTES,
  type StepActor,
} from '@tessera/recovery-workflows';
import { uuidv7 } from '@tessera/util';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { AUTH_PORT, type AuthPort } from '../ports/ports';
import type { RecoveryOrchestratorConfig } from '../service';
import { TEMPORAL_CLIENT } from '../temporal/temporal.tokens';
import { CancelLinks } from './cancel-links';
import { RecoveryLedger } from './recovery-ledger';
import { RecoveryStarter, startOrExplain } from './recovery-starter';
import type {
  cancelSchema,
  evidenceSchema,
  freezeSchema,
  incidentDecisionSchema,
  listIncidentsSchema,
  listRecoveriesSchema,
  startRecoverySchema,
} from './recovery.schemas';
import { callWorkflow } from './workflow-calls';

export const STAFF_ROLES: Role[] = ['helpdesk', 'security-officer', 'admin', 'auditor'];

interface RecoveryRow {
  recovery_id: string;
  user_id: string;
  kind: string;
  status: string;
  policy_version: string;
  requested_by: string;
  requested_at: Date;
  updated_at: Date;
  approvals: number;
  required_approvals: number;
  review: string;
  drill_id: string | null;
  forced_by_incident_id: string | null;
  workflow_run_id: string | null;
}

const summary = (row: RecoveryRow) => ({
  recoveryId: row.recovery_id,
  userId: row.user_id,
  kind: row.kind,
  state: row.status,
  policyVersion: row.policy_version,
  requestedBy: row.requested_by,
  requestedAt: row.requested_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
  approvals: row.approvals,
  requiredApprovals: row.required_approvals,
  review: row.review,
  drillId: row.drill_id,
  forcedByIncidentId: row.forced_by_incident_id,
  workflowId: recoveryWorkflowId(row.user_id),
});
export type RecoverySummary = ReturnType<typeof summary>;

const STEP_UP_METHOD: Readonly<Record<string, 'totp' | 'webauthn' | 'backup-code' | 'sms' | 'email'>> = {
  totp: 'totp',
  webauthn: 'webauthn',
  backup_code: 'backup-code',
  sms_otp: 'sms',
  email_otp: 'email',
};

const actorOf = (principal: Principal): StepActor => {
  for (const kind of ['security-officer', 'admin', 'helpdesk', 'service'] as const) if (hasRole(principal, kind)) return { kind, id: principal.subject };
  return { kind: 'user', id: principal.subject };
};

/**
 * The recovery and incident use cases behind REST and gRPC: who may do what is checked here (roles,
 * own account); what may happen is the decider's call, reached through the workflow's updates.
 */
@Injectable()
export class RecoveryService {
  constructor(
    @Inject(RecoveryStarter) private readonly starter: RecoveryStarter,
    @Inject(RecoveryLedger) private readonly ledger: RecoveryLedger,
    @Inject(CancelLinks) private readonly cancelLinks: CancelLinks,
    @Inject(AUTH_PORT) private readonly auth: AuthPort,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
  ) {}

  // ---- recoveries ----

  /**
   * Staff get the real outcome; a user asking for their own recovery gets the same 202 whatever
   * happened (S27), and hears the rest on their registered channels.
   */
  async start(principal: Principal, body: z.output<typeof startRecoverySchema>, correlationId: string): Promise<{ status: number; body: unknown }> {
    const staff = hasRole(principal, 'helpdesk', 'security-officer');
    if (!staff) {
      if (!hasRole(principal, 'user') || body.userId !== principal.subject || body.kind !== 'assisted') {
        throw new DomainError('forbidden', 'Users may start an assisted recovery of their own account only', 'forbidden');
      }
      try {
        await this.starter.start({
          userId: body.userId,
          kind: 'assisted',
          requestedBy: { kind: 'user', id: principal.subject },
          actor: { kind: 'user', id: principal.subject },
          correlationId,
          reason: body.reason,
          riskSignals: body.riskSignals,
          lostFactorIds: body.lostFactorIds,
          subjectGroups: [],
        });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
      const answer = publicRecoveryStartResponse({ outcome: 'unknown-account' });
      return { status: answer.httpStatus, body: answer.body };
    }
    if (body.kind === 'break-glass' && !hasRole(principal, 'security-officer')) {
      throw new DomainError('forbidden', 'Only a security officer starts a break-glass recovery', 'forbidden');
    }
    if (!body.ticketReference) throw new DomainError('ticket_reference_required', 'Staff starting a recovery give the ticket reference', 'invalid');
    const state = await this.starter.start({
      userId: body.userId,
      kind: body.kind,
      requestedBy: { kind: 'helpdesk', id: principal.subject, ticketReference: body.ticketReference },
      actor: actorOf(principal),
      correlationId,
      reason: body.reason,
      riskSignals: body.riskSignals,
      lostFactorIds: body.lostFactorIds,
      subjectGroups: body.subjectGroups,
    });
    if (state.status === 'not-requested') throw new Error('a started recovery has a state');
    return { status: 201, body: await this.show(principal, state.recoveryId) };
  }

  async list(filter: z.output<typeof listRecoveriesSchema>): Promise<{ recoveries: RecoverySummary[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state === 'active') where.push(`status NOT IN ('completed', 'cancelled', 'rejected', 'expired')`);
    else if (filter.state) where.push(`status = $${params.push(filter.state)}`);
    if (filter.userId) where.push(`user_id = $${params.push(filter.userId)}`);
    if (filter.kind) where.push(`kind = $${params.push(filter.kind)}`);
    const rows: RecoveryRow[] = await this.dataSource.query(
      `SELECT * FROM recoveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at DESC LIMIT $${params.push(filter.limit)}`,
      params,
    );
    return { recoveries: rows.map(summary) };
  }

  async listForUser(principal: Principal, userId: string): Promise<{ recoveries: RecoverySummary[] }> {
    this.assertSelfOrStaff(principal, userId);
    return this.list({ userId, limit: 100 });
  }

  /** The recovery and its timeline (every event, in order); its subject sees it without staff ids. */
  async show(principal: Principal, recoveryId: string) {
    const row = await this.row(principal, recoveryId);
    const { state, events } = await this.ledger.loadRecovery(recoveryId);
    const staff = hasRole(principal, ...STAFF_ROLES);
    const view = this.ledger.toView(state, recoveryId);
    return {
      ...summary(row),
      waitingFor: view.next.kind === 'wait' ? view.next.waitingFor : null,
      waitingUntil: view.next.kind === 'wait' ? view.next.until : null,
      coolingOffEndsAt: view.coolingOffEndsAt,
      timeline: events.map((event) => ({
        type: event.type,
        at: event.occurredAt,
        ...(staff ? { actor: event.actor, data: event.data } : {}),
      })),
    };
  }

  async recordEvidence(principal: Principal, recoveryId: string, body: z.output<typeof evidenceSchema>, correlationId: string) {
    const row = await this.row(principal, recoveryId);
    const actor = actorOf(principal);
    const verifier =
      body.kind === 'idv-webhook'
        ? { kind: 'idv-webhook' as const, reference: body.reference }
        : { kind: 'helpdesk-attestation' as const, reference: body.reference, attestedBy: principal.subject, outcome: body.outcome };
    return this.publicView(await callWorkflow(() => this.handle(row).executeUpdate(recordEvidenceUpdate, { args: [{ actor, correlationId, verifier }] })));
  }

  async step(principal: Principal, recoveryId: string, step: RecoveryStep, correlationId: string) {
    const row = await this.row(principal, recoveryId);
    return this.publicView(await this.sendStep(row, actorOf(principal), step, correlationId));
  }

  approve(principal: Principal, recoveryId: string, reason: string, correlationId: string) {
    return this.step(principal, recoveryId, { type: 'ApproveRecovery', approverId: principal.subject, approverRoles: [...principal.roles], reason }, correlationId);
  }

  reject(principal: Principal, recoveryId: string, reason: string, correlationId: string) {
    return this.step(principal, recoveryId, { type: 'RejectRecovery', officerId: principal.subject, officerRoles: [...principal.roles], reason }, correlationId);
  }

  closeReview(principal: Principal, recoveryId: string, findingsReference: string, correlationId: string) {
    return this.step(principal, recoveryId, { type: 'ClosePostIncidentReview', reviewerId: principal.subject, reviewerRoles: [...principal.roles], findingsReference }, correlationId);
  }

  /** The subject cancels with any remaining factor: auth-service checks the proof, only its verdict reaches the workflow. */
  async cancelWithStepUp(principal: Principal, recoveryId: string, body: z.output<typeof cancelSchema>, clientAddress: string, correlationId: string) {
    const row = await this.row(principal, recoveryId);
    if (row.user_id !== principal.subject) throw new DomainError('step_up_not_subject', 'Only the subject can cancel with a step-up', 'forbidden');
    const verified = await this.auth.verify({ userId: principal.subject, method: body.method, proofJson: JSON.stringify(body.proof), clientAddress }).catch((error: unknown) => {
      if (error instanceof DomainError) throw error;
      throw new ApiError(503, 'auth_unavailable', 'auth-service could not check the proof; try again shortly.');
    });
    const method = STEP_UP_METHOD[verified.method];
    if (!method) throw new DomainError('step_up_method_not_allowed', 'This method cannot cancel a recovery', 'forbidden');
    const step: RecoveryStep = {
      type: 'CancelRecovery',
      proof: { via: 'step-up', stepUp: { userId: principal.subject, factorId: verified.credentialId, method, verifiedAt: new Date().toISOString() } },
    };
    return this.publicView(await this.sendStep(row, { kind: 'user', id: principal.subject }, step, correlationId));
  }

  /** "This wasn't me": the signed single-use link cancels and raises an incident. Public: the link is the credential. */
  async cancelWithLink(recoveryId: string, token: string, correlationId: string): Promise<{ status: 'cancelled' }> {
    const rows: RecoveryRow[] = await this.dataSource.query(`SELECT * FROM recoveries WHERE recovery_id = $1`, [recoveryId]);
    const claims = await this.cancelLinks.spend(token, recoveryId);
    if (rows.length === 0) throw new DomainError('cancel_link_invalid', 'This link is not valid (expired, altered or not for this action)', 'forbidden');
    const row = rows[0];
    const step: RecoveryStep = { type: 'CancelRecovery', proof: { via: 'wasnt-me-link', link: { recoveryId, userId: row.user_id, expiresAt: claims.expiresAt.toISOString() } } };
    await this.sendStep(row, { kind: 'user', id: row.user_id }, step, correlationId);
    return { status: 'cancelled' };
  }

  // ---- incidents ----

  /** A suspected compromise: the freeze is stored with the workflow's start, so it holds from this answer on. */
  async reportCompromise(principal: Principal, userId: string, body: z.output<typeof freezeSchema>, correlationId: string) {
    const security = hasRole(principal, 'security-officer');
    if (!security) this.assertSelfOrStaff(principal, userId, 'security-officer');
    const incidentId = uuidv7();
    const reportedBy = security ? { kind: 'security-officer' as const, id: principal.subject } : { kind: 'user' as const, id: principal.subject };
    const source = security ? ('security-team' as const) : ('user-report' as const);
    try {
      await this.ledger.applyIncidentStep(
        incidentId,
        { type: 'ReportSuspectedCompromise', userId, source, reportedBy, recoveryId: null },
        {
          now: new Date(),
          actor: actorOf(principal),
          correlationId,
          alsoInTransaction: async () => {
            await startOrExplain(() => this.temporal.workflow.start('incidentWorkflow', {
              taskQueue: this.config.TEMPORAL_TASK_QUEUE,
              workflowId: incidentWorkflowId(userId),
              workflowIdConflictPolicy: 'FAIL',
              workflowIdReusePolicy: 'ALLOW_DUPLICATE',
              args: [{ incidentId, userId, source, reportedBy, recoveryId: null, deviceIds: body.deviceIds, correlationId, reported: true }],
              typedSearchAttributes: [
                { key: SEARCH_ATTRIBUTES.userId, value: userId },
                { key: SEARCH_ATTRIBUTES.kind, value: 'incident' },
                { key: SEARCH_ATTRIBUTES.state, value: 'frozen' },
              ],
              memo: { incidentId, reason: body.reason, reportedBy: `${reportedBy.kind}:${reportedBy.id}` },
            }));
          },
        },
      );
    } catch (error) {
      if (isUniqueViolation(error, 'incidents_one_open_per_user') || error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new DomainError('incident_already_open', 'This account is already frozen by an open incident', 'conflict');
      }
      throw error;
    }
    return this.showIncident(incidentId);
  }

  async decideIncident(principal: Principal, incidentId: string, body: z.output<typeof incidentDecisionSchema>, correlationId: string): Promise<IncidentView> {
    const incident = await this.incidentRow(incidentId);
    const decision = {
      actor: actorOf(principal),
      actorRoles: [...principal.roles],
      correlationId,
      decision: body.decision,
      reason: body.reason,
      ...(body.decision === 'force-recovery'
        ? { recovery: { recoveryId: uuidv7(), ticketReference: body.ticketReference, lostFactorIds: body.lostFactorIds, subjectGroups: body.subjectGroups } }
        : {}),
    };
    return callWorkflow(() => this.temporal.workflow.getHandle(incidentWorkflowId(incident.user_id)).executeUpdate(decideIncidentUpdate, { args: [decision] }), 'incident_closed');
  }

  /** Unfreezing a user's account decides the incident that froze it. */
  async unfreeze(principal: Principal, userId: string, reason: string, correlationId: string): Promise<IncidentView> {
    const rows: { incident_id: string }[] = await this.dataSource.query(`SELECT incident_id FROM incidents WHERE user_id = $1 AND status <> 'unfrozen'`, [userId]);
    if (rows.length === 0) throw new DomainError('not_frozen', 'This account is not frozen', 'not_found');
    return this.decideIncident(principal, rows[0].incident_id, { decision: 'unfreeze', reason }, correlationId);
  }

  async revokeIncidentDevices(principal: Principal, incidentId: string, deviceIds: readonly string[], correlationId: string): Promise<IncidentView> {
    const incident = await this.incidentRow(incidentId);
    return callWorkflow(
      () => this.temporal.workflow.getHandle(incidentWorkflowId(incident.user_id)).executeUpdate(revokeIncidentDevicesUpdate, { args: [{ actor: actorOf(principal), correlationId, deviceIds }] }),
      'incident_closed',
    );
  }

  async listIncidents(filter: z.output<typeof listIncidentsSchema>) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status === 'open') where.push(`status <> 'unfrozen'`);
    else if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.userId) where.push(`user_id = $${params.push(filter.userId)}`);
    const rows: { incident_id: string }[] = await this.dataSource.query(
      `SELECT incident_id FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC LIMIT $${params.push(filter.limit)}`,
      params,
    );
    return { incidents: await Promise.all(rows.map((row) => this.showIncident(row.incident_id))) };
  }

  async showIncident(incidentId: string) {
    const { state, events } = await this.ledger.loadIncident(incidentId);
    if (state.status === 'none') throw new DomainError('incident_not_found', 'No such incident', 'not_found');
    return {
      incidentId,
      userId: state.userId,
      status: state.status,
      source: state.source,
      recoveryId: state.recoveryId,
      forcedRecoveryId: state.status === 'recovery-forced' ? state.forcedRecoveryId : null,
      revokedDeviceIds: state.revokedDeviceIds,
      workflowId: incidentWorkflowId(state.userId),
      timeline: events.map((event) => ({ type: event.type, at: event.occurredAt, actor: event.actor, data: event.data })),
    };
  }

  // ---- helpers ----

  private async incidentRow(incidentId: string): Promise<{ user_id: string }> {
    const rows: { user_id: string }[] = await this.dataSource.query(`SELECT user_id FROM incidents WHERE incident_id = $1`, [incidentId]);
    if (rows.length === 0) throw new DomainError('incident_not_found', 'No such incident', 'not_found');
    return rows[0];
  }

  /** The recovery, if the caller may see it: staff, or its subject. Anyone else is told it does not exist. */
  private async row(principal: Principal, recoveryId: string): Promise<RecoveryRow> {
    const rows: RecoveryRow[] = await this.dataSource.query(`SELECT * FROM recoveries WHERE recovery_id = $1`, [recoveryId]);
    const row = rows[0];
    const mayView = row !== undefined && (hasRole(principal, ...STAFF_ROLES, 'service') || (hasRole(principal, 'user') && row.user_id === principal.subject));
    if (!mayView) throw new DomainError('recovery_not_found', 'No such recovery', 'not_found');
    return row;
  }

  /**
   * The recovery's workflow on whatever run it is now: a long wait continues as new, and on-call may
   * reset a run; the first run's id names the chain, so a later recovery of the same user (same
   * workflow id, another chain) is never addressed by mistake.
   */
  private handle(row: RecoveryRow) {
    return this.temporal.workflow.getHandle(recoveryWorkflowId(row.user_id), undefined, { firstExecutionRunId: row.workflow_run_id ?? undefined });
  }

  private sendStep(row: RecoveryRow, actor: StepActor, step: RecoveryStep, correlationId: string): Promise<RecoveryView> {
    return callWorkflow(() => this.handle(row).executeUpdate(recoveryStepUpdate, { args: [{ actor, correlationId, step }] }));
  }

  private publicView(view: RecoveryView) {
    return {
      recoveryId: view.recoveryId,
      userId: view.userId,
      kind: view.kind,
      state: view.status,
      policyVersion: view.policyVersion,
      approvals: view.approvals,
      requiredApprovals: view.requiredApprovals,
      waitingFor: view.next.kind === 'wait' ? view.next.waitingFor : null,
      waitingUntil: view.next.kind === 'wait' ? view.next.until : null,
      coolingOffEndsAt: view.coolingOffEndsAt,
      review: view.review,
    };
  }

  private assertSelfOrStaff(principal: Principal, userId: string, ...roles: Role[]): void {
    if (principal.subject === userId && hasRole(principal, 'user')) return;
    if (hasRole(principal, ...(roles.length > 0 ? roles : STAFF_ROLES))) return;
    throw new DomainError('forbidden', 'You may not act on this account', 'forbidden');
  }
}
