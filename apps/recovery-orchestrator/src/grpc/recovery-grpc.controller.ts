import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { IdempotencyStore, requestFingerprint } from '@tessera/event-store';
import { currentCorrelationId, CurrentPrincipal, hasRole, type Principal, RequireRoles, RequireScopes, ZodPipe } from '@tessera/platform';
import { z } from 'zod';
import { RECOVERY_ENROL_SCOPE } from '../recoveries/recoveries.controller';
import {
  cancelSchema,
  enrolmentSchema,
  evidenceSchema,
  freezeSchema,
  identifier,
  listRecoveriesSchema,
  reasonSchema,
  redeemSchema,
  reviewSchema,
  startRecoverySchema,
  unfreezeSchema,
} from '../recoveries/recovery.schemas';
import { RecoveryService } from '../recoveries/recovery.service';

const key = z.string().regex(/^[A-Za-z0-9._:-]{8,200}$/, 'must be 8-200 letters, digits, ".", "_", ":" or "-"');
const withKey = <S extends z.ZodRawShape>(shape: S) => z.object({ ...shape, idempotency_key: key });
const recoveryId = { recovery_id: identifier };
const emptyToUndefined = (value: unknown) => (value === '' || value === 0 ? undefined : value);

const startRequest = withKey({
  user_id: identifier,
  kind: z.preprocess(emptyToUndefined, z.enum(['assisted', 'break-glass']).optional()),
  reason: z.string(),
  ticket_reference: z.preprocess(emptyToUndefined, z.string().optional()),
  risk_signals: z.array(z.string()).max(10),
  lost_factor_ids: z.array(z.string()).max(50),
  subject_groups: z.array(z.string()).max(100),
});
const listRequest = z.object({ state: z.string(), user_id: z.string(), kind: z.string(), limit: z.number().int() });
const getRequest = z.object(recoveryId);
const evidenceRequest = withKey({ ...recoveryId, kind: z.string(), reference: z.string(), outcome: z.string() });
const decisionRequest = withKey({ ...recoveryId, reason: z.string() });
const cancelRequest = withKey({ ...recoveryId, method: z.string(), proof_json: z.string().max(16_384) });
const reviewRequest = withKey({ ...recoveryId, findings_reference: z.string() });
const redeemRequest = withKey({ ...recoveryId, pass_id: z.string() });
const enrolRequest = withKey({ ...recoveryId, pass_id: z.string(), factor_id: z.string(), factor_kind: z.string() });
const freezeRequest = withKey({ user_id: identifier, reason: z.string(), device_ids: z.array(z.string()).max(50) });
const unfreezeRequest = withKey({ user_id: identifier, reason: z.string() });

/** The REST shape of a recovery in the proto's words. */
interface RecoveryShape {
  readonly recoveryId: string;
  readonly userId: string;
  readonly kind: string;
  readonly state: string;
  readonly policyVersion: string;
  readonly approvals?: number;
  readonly requiredApprovals?: number;
  readonly waitingFor?: string | null;
  readonly waitingUntil?: string | null;
  readonly review?: string;
  readonly workflowId?: string;
  readonly timeline?: readonly { type: string; at: string; data?: unknown }[];
}

function toRecovery(view: RecoveryShape) {
  return {
    recovery_id: view.recoveryId,
    user_id: view.userId,
    kind: view.kind,
    state: view.state,
    policy_version: view.policyVersion,
    approvals: view.approvals ?? 0,
    required_approvals: view.requiredApprovals ?? 0,
    waiting_for: view.waitingFor ?? '',
    waiting_until: view.waitingUntil ?? '',
    review: view.review ?? '',
    workflow_id: view.workflowId ?? '',
    timeline: (view.timeline ?? []).map((entry) => ({ type: entry.type, at: entry.at, data_json: entry.data ? JSON.stringify(entry.data) : '' })),
  };
}

const toIncident = (incident: { incidentId: string; userId: string; status: string }) => ({
  incident_id: incident.incidentId,
  user_id: incident.userId,
  status: incident.status,
  workflow_id: `incident-${incident.userId}`,
});

/**
 * tessera.recovery.v1.RecoveryService (libs/shared/contracts/proto/recovery.proto): the REST use
 * cases for internal callers, with the same validation, roles and idempotency.
 */
@Controller()
export class RecoveryGrpcController {
  constructor(
    @Inject(RecoveryService) private readonly recoveries: RecoveryService,
    @Inject(IdempotencyStore) private readonly idempotency: IdempotencyStore,
  ) {}

  private async once<T>(principal: Principal, method: string, request: { idempotency_key: string }, work: () => Promise<T>): Promise<T> {
    const result = await this.idempotency.run(principal.subject, `grpc:${request.idempotency_key}`, requestFingerprint('grpc', method, request), async () => ({ status: 200, body: await work() }));
    return result.body;
  }

  private correlation(): string {
    return currentCorrelationId() ?? 'grpc';
  }

  @GrpcMethod('RecoveryService', 'StartRecovery')
  @RequireRoles('helpdesk', 'security-officer')
  start(@Payload(new ZodPipe(startRequest)) request: z.infer<typeof startRequest>, @CurrentPrincipal() principal: Principal) {
    const body = startRecoverySchema.parse({
      userId: request.user_id,
      kind: request.kind,
      reason: request.reason,
      ticketReference: request.ticket_reference,
      riskSignals: request.risk_signals,
      lostFactorIds: request.lost_factor_ids,
      subjectGroups: request.subject_groups,
    });
    return this.once(principal, 'StartRecovery', request, async () => toRecovery((await this.recoveries.start(principal, body, this.correlation())).body as RecoveryShape));
  }

  @GrpcMethod('RecoveryService', 'ListRecoveries')
  @RequireRoles('helpdesk', 'security-officer', 'auditor', 'admin')
  async list(@Payload(new ZodPipe(listRequest)) request: z.infer<typeof listRequest>) {
    const filter = listRecoveriesSchema.parse({
      state: request.state || undefined,
      userId: request.user_id || undefined,
      kind: request.kind || undefined,
      limit: request.limit || undefined,
    });
    return { recoveries: (await this.recoveries.list(filter)).recoveries.map(toRecovery) };
  }

  @GrpcMethod('RecoveryService', 'GetRecovery')
  async get(@Payload(new ZodPipe(getRequest)) request: z.infer<typeof getRequest>, @CurrentPrincipal() principal: Principal) {
    return toRecovery(await this.recoveries.show(principal, request.recovery_id));
  }

  @GrpcMethod('RecoveryService', 'RecordEvidence')
  @RequireRoles('helpdesk', 'security-officer')
  evidence(@Payload(new ZodPipe(evidenceRequest)) request: z.infer<typeof evidenceRequest>, @CurrentPrincipal() principal: Principal) {
    const body = evidenceSchema.parse(request.kind === 'idv-webhook' ? { kind: request.kind, reference: request.reference } : { kind: request.kind, reference: request.reference, outcome: request.outcome });
    return this.once(principal, 'RecordEvidence', request, async () => toRecovery(await this.recoveries.recordEvidence(principal, request.recovery_id, body, this.correlation())));
  }

  @GrpcMethod('RecoveryService', 'ApproveRecovery')
  @RequireRoles('security-officer')
  approve(@Payload(new ZodPipe(decisionRequest)) request: z.infer<typeof decisionRequest>, @CurrentPrincipal() principal: Principal) {
    const { reason } = reasonSchema.parse({ reason: request.reason });
    return this.once(principal, 'ApproveRecovery', request, async () => toRecovery(await this.recoveries.approve(principal, request.recovery_id, reason, this.correlation())));
  }

  @GrpcMethod('RecoveryService', 'RejectRecovery')
  @RequireRoles('security-officer')
  reject(@Payload(new ZodPipe(decisionRequest)) request: z.infer<typeof decisionRequest>, @CurrentPrincipal() principal: Principal) {
    const { reason } = reasonSchema.parse({ reason: request.reason });
    return this.once(principal, 'RejectRecovery', request, async () => toRecovery(await this.recoveries.reject(principal, request.recovery_id, reason, this.correlation())));
  }

  @GrpcMethod('RecoveryService', 'CancelRecovery')
  @RequireRoles('user')
  cancel(@Payload(new ZodPipe(cancelRequest)) request: z.infer<typeof cancelRequest>, @CurrentPrincipal() principal: Principal) {
    let proof: unknown;
    try {
      proof = JSON.parse(request.proof_json);
    } catch {
      proof = undefined;
    }
    const body = cancelSchema.parse({ method: request.method, proof });
    return this.once(principal, 'CancelRecovery', { idempotency_key: request.idempotency_key }, async () =>
      toRecovery(await this.recoveries.cancelWithStepUp(principal, request.recovery_id, body, 'grpc', this.correlation())),
    );
  }

  @GrpcMethod('RecoveryService', 'CloseReview')
  @RequireRoles('security-officer')
  review(@Payload(new ZodPipe(reviewRequest)) request: z.infer<typeof reviewRequest>, @CurrentPrincipal() principal: Principal) {
    const { findingsReference } = reviewSchema.parse({ findingsReference: request.findings_reference });
    return this.once(principal, 'CloseReview', request, async () => toRecovery(await this.recoveries.closeReview(principal, request.recovery_id, findingsReference, this.correlation())));
  }

  @GrpcMethod('RecoveryService', 'RedeemTemporaryAccessPass')
  @RequireScopes(RECOVERY_ENROL_SCOPE)
  redeem(@Payload(new ZodPipe(redeemRequest)) request: z.infer<typeof redeemRequest>, @CurrentPrincipal() principal: Principal) {
    const { passId } = redeemSchema.parse({ passId: request.pass_id });
    return this.once(principal, 'RedeemTemporaryAccessPass', request, async () =>
      toRecovery(await this.recoveries.step(principal, request.recovery_id, { type: 'RedeemTemporaryAccessPass', passId }, this.correlation())),
    );
  }

  @GrpcMethod('RecoveryService', 'RecordEnrolment')
  @RequireScopes(RECOVERY_ENROL_SCOPE)
  enrol(@Payload(new ZodPipe(enrolRequest)) request: z.infer<typeof enrolRequest>, @CurrentPrincipal() principal: Principal) {
    const body = enrolmentSchema.parse({ passId: request.pass_id, factorId: request.factor_id, factorKind: request.factor_kind });
    return this.once(principal, 'RecordEnrolment', request, async () =>
      toRecovery(await this.recoveries.step(principal, request.recovery_id, { type: 'RecordEnrolment', ...body }, this.correlation())),
    );
  }

  @GrpcMethod('RecoveryService', 'FreezeAccount')
  @RequireRoles('user', 'security-officer')
  freeze(@Payload(new ZodPipe(freezeRequest)) request: z.infer<typeof freezeRequest>, @CurrentPrincipal() principal: Principal) {
    const body = freezeSchema.parse({ reason: request.reason, deviceIds: request.device_ids });
    return this.once(principal, 'FreezeAccount', request, async () => toIncident(await this.recoveries.reportCompromise(principal, request.user_id, body, this.correlation())));
  }

  @GrpcMethod('RecoveryService', 'UnfreezeAccount')
  @RequireRoles('security-officer')
  unfreeze(@Payload(new ZodPipe(unfreezeRequest)) request: z.infer<typeof unfreezeRequest>, @CurrentPrincipal() principal: Principal) {
    const { reason } = unfreezeSchema.parse({ reason: request.reason });
    if (!hasRole(principal, 'security-officer')) throw new Error('unreachable: guarded by RequireRoles');
    return this.once(principal, 'UnfreezeAccount', request, async () => toIncident(await this.recoveries.unfreeze(principal, request.user_id, reason, this.correlation())));
  }
}
