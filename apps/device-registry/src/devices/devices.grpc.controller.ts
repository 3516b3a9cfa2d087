import { Controller, Inject, UseInterceptors } from '@nestjs/common';
import { Ctx, GrpcMethod, Payload } from '@nestjs/microservices';
import { deviceKindSchema, deviceLossReasonSchema } from '@tessera/contracts';
import { IdempotencyStore, requestFingerprint } from '@tessera/event-store';
import { CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import { type Clock } from '@tessera/util';
import { z } from 'zod';
import { assertMay, bearerOf } from '../common/access';
import { CLOCK } from '../common/tokens';
import { ReadinessAssessor } from '../registry/readiness-assessor';
import { RetryAfterInterceptor } from '../registry/rate-limiter';
import { VaultService } from '../vault/vault.service';
import { type DeviceResponse, userIdSchema, uuidSchema } from './devices.schemas';
import { DevicesService } from './devices.service';

/**
 * device-registry's gRPC API (libs/shared/contracts/proto/devices.proto): the REST operations for
 * internal callers, through the same DevicesService, so rules and authorisation are the same. Proto3
 * sends absent strings as "", which the schemas below read as "not given".
 */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
const idempotencyKey = optional(z.string().max(200));

const listSchema = z.object({ user_id: userIdSchema, status: optional(z.enum(['active', 'lost', 'revoked'])) }).strict();
const getSchema = z.object({ device_id: uuidSchema }).strict();
const registerSchema = z
  .object({
    user_id: userIdSchema,
    kind: deviceKindSchema,
    name: z.string().min(1).max(64),
    credential_ids: z.array(uuidSchema).max(20),
    aaguid: optional(z.string().toLowerCase().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)),
    idempotency_key: idempotencyKey,
  })
  .strict();
const renameSchema = z.object({ device_id: uuidSchema, name: z.string().min(1).max(64), idempotency_key: idempotencyKey }).strict();
const reportLostSchema = z.object({ device_id: uuidSchema, reason: optional(deviceLossReasonSchema), idempotency_key: idempotencyKey }).strict();
const revokeSchema = z
  .object({
    device_id: uuidSchema,
    idempotency_key: idempotencyKey,
    reason: optional(z.enum(['user_removed', 'recovery', 'incident'])),
    reference_id: optional(z.string().min(1).max(200)),
    step_up_assertion: optional(z.string().max(8192)),
  })
  .strict()
  .refine((request) => (request.reason === 'recovery' || request.reason === 'incident') === (request.reference_id !== undefined), {
    message: 'reference_id names the recovery or incident, and is given exactly when reason is recovery or incident',
    path: ['reference_id'],
  });
const userSchema = z.object({ user_id: userIdSchema }).strict();

@Controller()
@UseInterceptors(RetryAfterInterceptor)
export class DevicesGrpcController {
  constructor(
    @Inject(DevicesService) private readonly devices: DevicesService,
    @Inject(ReadinessAssessor) private readonly readiness: ReadinessAssessor,
    @Inject(VaultService) private readonly vault: VaultService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IdempotencyStore) private readonly idempotency: IdempotencyStore,
  ) {}

  /**
   * gRPC commands carry `idempotency_key` (DESIGN.md "How services talk"): a retry with the same key and
   * request gets the first answer; the same key with another request is refused (ADR 0008).
   */
  private async once<T>(principal: Principal, method: string, request: { idempotency_key?: string }, work: () => Promise<T>): Promise<T> {
    const { idempotency_key: key, ...rest } = request;
    if (!key) return work();
    const result = await this.idempotency.run(principal.subject, key, requestFingerprint('grpc', method, rest), async () => ({ status: 200, body: await work() }));
    return result.body;
  }

  @GrpcMethod('DeviceRegistry', 'ListDevices')
  async listDevices(@Payload(new ZodPipe(listSchema)) request: z.infer<typeof listSchema>, @CurrentPrincipal() principal: Principal) {
    const { devices } = await this.devices.list(principal, request.user_id, request.status);
    return { devices: devices.map(toProtoDevice) };
  }

  @GrpcMethod('DeviceRegistry', 'GetDevice')
  async getDevice(@Payload(new ZodPipe(getSchema)) request: z.infer<typeof getSchema>, @CurrentPrincipal() principal: Principal) {
    return toProtoDevice(await this.devices.get(principal, request.device_id));
  }

  @GrpcMethod('DeviceRegistry', 'RegisterDevice')
  async registerDevice(@Payload(new ZodPipe(registerSchema)) request: z.infer<typeof registerSchema>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'RegisterDevice', request, async () => {
      const device = await this.devices.register(principal, request.user_id, {
        kind: request.kind,
        name: request.name,
        credentialIds: request.credential_ids,
        aaguid: request.aaguid ?? null,
      });
      return toProtoDevice(device);
    });
  }

  @GrpcMethod('DeviceRegistry', 'RenameDevice')
  async renameDevice(@Payload(new ZodPipe(renameSchema)) request: z.infer<typeof renameSchema>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'RenameDevice', request, async () => toProtoDevice(await this.devices.rename(principal, request.device_id, request.name)));
  }

  @GrpcMethod('DeviceRegistry', 'ReportDeviceLost')
  async reportDeviceLost(@Payload(new ZodPipe(reportLostSchema)) request: z.infer<typeof reportLostSchema>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'ReportDeviceLost', request, async () =>
      toProtoDevice(await this.devices.reportLost(principal, request.device_id, request.reason ?? 'lost')),
    );
  }

  @GrpcMethod('DeviceRegistry', 'RevokeDevice')
  async revokeDevice(
    @Payload(new ZodPipe(revokeSchema)) request: z.infer<typeof revokeSchema>,
    @CurrentPrincipal() principal: Principal,
    @Ctx() metadata: { get(key: string): unknown[] },
  ) {
    const reason = request.reason === 'recovery' || request.reason === 'incident' ? request.reason : undefined;
    const bearerToken = bearerOf(String(metadata.get('authorization')[0] ?? ''));
    return this.once(principal, 'RevokeDevice', request, async () => {
      const result = await this.devices.revoke(principal, request.device_id, { reason, referenceId: reason ? request.reference_id : undefined }, { bearerToken, stepUpAssertion: request.step_up_assertion });
      return { device: toProtoDevice(result.device), revoked_credential_ids: result.revokedCredentialIds, already_revoked: result.alreadyRevoked };
    });
  }

  @GrpcMethod('DeviceRegistry', 'GetReadiness')
  async getReadiness(@Payload(new ZodPipe(userSchema)) request: z.infer<typeof userSchema>, @CurrentPrincipal() principal: Principal) {
    assertMay(principal, request.user_id, 'read');
    const report = await this.readiness.assess(request.user_id, this.clock.now());
    return {
      user_id: report.userId,
      level: report.level,
      score: report.score,
      findings: report.findings,
      backup_methods: report.backupMethods.methods.map((method) => ({
        method: method.method,
        status: method.status,
        remaining: method.remaining ?? 0,
        stored_at: method.storedAt ?? '',
      })),
      to_fix: report.backupMethods.toFix,
      assessed_at: report.assessedAt,
    };
  }

  @GrpcMethod('DeviceRegistry', 'GetVaultBackup')
  async getVaultBackup(@Payload(new ZodPipe(userSchema)) request: z.infer<typeof userSchema>, @CurrentPrincipal() principal: Principal) {
    const { current } = await this.vault.info(principal, request.user_id);
    if (!current) return { exists: false };
    return {
      exists: true,
      backup_id: current.backupId,
      version: current.version,
      format_version: current.formatVersion,
      size_bytes: current.sizeBytes,
      stored_at: current.storedAt,
      device_id: current.deviceId ?? '',
      last_restored_at: current.lastRestoredAt ?? '',
    };
  }
}

function toProtoDevice(device: DeviceResponse) {
  return {
    device_id: device.deviceId,
    user_id: device.userId,
    kind: device.kind,
    name: device.name,
    status: device.status,
    credentials: device.credentials.map((credential) => ({ credential_id: credential.credentialId, factor: credential.factor, bound_at: credential.boundAt })),
    aaguid: device.aaguid ?? '',
    model: device.model ?? undefined,
    registered_at: device.registeredAt,
    last_used_at: device.lastUsedAt ?? '',
    loss_reason: device.lossReason ?? '',
    reported_at: device.reportedAt ?? '',
    revocation_reason: device.revocationReason ?? '',
    revoked_at: device.revokedAt ?? '',
  };
}
