import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { DomainError } from '@tessera/event-sourcing';
import { IdempotencyStore, requestFingerprint } from '@tessera/event-store';
import { ApiError, CurrentPrincipal, type Principal, RequireRoles, RequireScopes, ZodPipe } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import { z } from 'zod';
import { actorOf } from '../common/actor';
import { factorIdSchema, userIdSchema } from '../common/schemas';
import { CLOCK } from '../common/tokens';
import { AccountService } from '../credentials/account.service';
import { FactorsService } from '../factors/factors.service';
import { VERIFY_METHODS } from '../methods/method-verifier';
import { TemporaryAccessPassService } from '../methods/temporary-access-pass/temporary-access-pass.service';
import { VerificationService } from '../verification/verification.service';
import { ContactChannelsReader } from './contact-channels.reader';

/** Scopes of service callers (DESIGN.md "Callers and authorisation"). */
export const GRPC_SCOPES = { verify: 'factors:verify', read: 'factors:read', manage: 'factors:manage', contacts: 'contacts:read' } as const;

// What IdempotencyStore accepts as a key (8–200 of [A-Za-z0-9._:-]), checked here so a bad one is INVALID_ARGUMENT.
const key = z.string().regex(/^[A-Za-z0-9._:-]{8,200}$/, 'must be 8–200 characters of letters, digits, ".", "_", ":" or "-"');
const reference = z.string().min(1).max(200);
const verifyRequest = z.object({
  user_id: userIdSchema,
  method: z.enum(VERIFY_METHODS),
  proof_json: z.string().min(2).max(32_768),
  client_address: z.string().max(64).regex(/^[0-9A-Fa-f.:]*$/),
});
const listRequest = z.object({ user_id: userIdSchema });
const revokeRequest = z.object({ user_id: userIdSchema, credential_id: factorIdSchema, idempotency_key: key, reason: z.string().max(200), recovery_id: reference });
const freezeRequest = z.object({ user_id: userIdSchema, incident_id: reference, idempotency_key: key, reason: z.string().min(1).max(500) });
const unfreezeRequest = z.object({ user_id: userIdSchema, incident_id: reference, idempotency_key: key });
const issuePassRequest = z.object({
  user_id: userIdSchema,
  recovery_id: reference,
  idempotency_key: key,
  lifetime_seconds: z.number().int().min(0).max(3600),
  delivery_channel: z.enum(['email', 'sms']),
  delivery_address: z.string().min(3).max(254),
});
const contactsRequest = z.object({ user_id: userIdSchema });
const revokePassRequest = z.object({ user_id: userIdSchema, pass_id: factorIdSchema, idempotency_key: key });

/**
 * tessera.auth.v1.AuthService (libs/shared/contracts/proto/auth.proto) for the other services. Errors
 * are gRPC statuses whose message starts with the machine-readable code (the platform's filter).
 * Commands carry an `idempotency_key` (e.g. workflow id + activity id): through IdempotencyStore, a
 * retry with the same key and request gets the first answer and never repeats the effect; the same key
 * with another request is refused (`idempotency_key_reused`). Keys are per calling service.
 */
@Controller()
export class AuthGrpcController {
  constructor(
    @Inject(VerificationService) private readonly verification: VerificationService,
    @Inject(FactorsService) private readonly factors: FactorsService,
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(TemporaryAccessPassService) private readonly passes: TemporaryAccessPassService,
    @Inject(IdempotencyStore) private readonly idempotency: IdempotencyStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ContactChannelsReader) private readonly contacts: ContactChannelsReader,
  ) {}

  /** Runs a command once per (caller, idempotency key); a retry gets the first answer back. */
  private async once<T>(principal: Principal, method: string, request: { idempotency_key: string }, work: () => Promise<T>): Promise<T> {
    const fingerprint = requestFingerprint(`tessera.auth.v1.AuthService/${method}`, request);
    const result = await this.idempotency.run(principal.subject, request.idempotency_key, fingerprint, async () => ({ status: 200, body: await work() }));
    return result.body;
  }

  @GrpcMethod('AuthService', 'Verify')
  @RequireScopes(GRPC_SCOPES.verify)
  async verify(@Payload(new ZodPipe(verifyRequest)) request: z.infer<typeof verifyRequest>, @CurrentPrincipal() principal: Principal) {
    let proof: unknown;
    try {
      proof = JSON.parse(request.proof_json);
    } catch {
      throw new ApiError(400, 'invalid_proof', 'proof_json is not valid JSON.');
    }
    const outcome = await this.verification.verify({
      userId: request.user_id,
      method: request.method,
      proof,
      clientAddress: request.client_address || 'unknown',
      actor: actorOf(principal),
      now: this.clock.now(),
    });
    return { method: outcome.method, assurance_level: outcome.assuranceLevel, step_up_assertion: outcome.stepUpAssertion, credential_id: outcome.credentialId ?? '' };
  }

  @GrpcMethod('AuthService', 'ListFactors')
  @RequireScopes(GRPC_SCOPES.read)
  async listFactors(@Payload(new ZodPipe(listRequest)) request: z.infer<typeof listRequest>) {
    const { factors, frozen } = await this.factors.list(request.user_id, true);
    return {
      frozen,
      factors: factors.map((factor) => ({
        factor_id: factor.factorId,
        kind: factor.kind,
        name: factor.name ?? '',
        status: factor.status,
        created_at: factor.createdAt,
        last_used_at: factor.lastUsedAt ?? '',
        remaining_codes: factor.remainingCodes ?? 0,
      })),
    };
  }

  /** S23: effective before it returns. Inside a recovery (or the incident the account is frozen for) the last factor may go (S24). */
  @GrpcMethod('AuthService', 'RevokeCredential')
  @RequireScopes(GRPC_SCOPES.manage)
  async revokeCredential(@Payload(new ZodPipe(revokeRequest)) request: z.infer<typeof revokeRequest>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'RevokeCredential', request, async () => {
      const account = await this.accounts.load(request.user_id);
      const authorization =
        account.status === 'frozen' && account.incidentId === request.recovery_id
          ? ({ kind: 'incident', incidentId: request.recovery_id } as const)
          : ({ kind: 'recovery', recoveryId: request.recovery_id } as const);
      const result = await this.factors.revoke(request.user_id, request.credential_id, authorization, actorOf(principal), this.clock.now());
      return { credential_id: result.factorId, already_revoked: result.alreadyRevoked };
    });
  }

  @GrpcMethod('AuthService', 'FreezeAccount')
  @RequireScopes(GRPC_SCOPES.manage)
  async freezeAccount(@Payload(new ZodPipe(freezeRequest)) request: z.infer<typeof freezeRequest>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'FreezeAccount', request, async () => {
      const { events } = await this.accounts.execute(
        { type: 'FreezeAccount', userId: request.user_id, now: this.clock.now(), incidentId: request.incident_id, reason: request.reason },
        actorOf(principal),
      );
      return { already_frozen: events.length === 0 };
    });
  }

  @GrpcMethod('AuthService', 'UnfreezeAccount')
  @RequireScopes(GRPC_SCOPES.manage)
  async unfreezeAccount(@Payload(new ZodPipe(unfreezeRequest)) request: z.infer<typeof unfreezeRequest>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'UnfreezeAccount', request, async () => {
      try {
        await this.accounts.execute({ type: 'UnfreezeAccount', userId: request.user_id, now: this.clock.now(), incidentId: request.incident_id }, actorOf(principal));
        return { was_frozen: true };
      } catch (error) {
        // An unfreeze retried under another key finds the account already unfrozen: the same outcome, not an error.
        if (error instanceof DomainError && error.code === 'not_frozen') return { was_frozen: false };
        throw error;
      }
    });
  }

  @GrpcMethod('AuthService', 'IssueTemporaryAccessPass')
  @RequireScopes(GRPC_SCOPES.manage)
  async issuePass(@Payload(new ZodPipe(issuePassRequest)) request: z.infer<typeof issuePassRequest>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'IssueTemporaryAccessPass', request, async () => {
      const issued = await this.passes.issue(
        {
          userId: request.user_id,
          recoveryId: request.recovery_id,
          idempotencyKey: request.idempotency_key,
          lifetimeSeconds: request.lifetime_seconds,
          channel: request.delivery_channel,
          address: request.delivery_address,
        },
        actorOf(principal),
        this.clock.now(),
      );
      return { pass_id: issued.passId, expires_at: issued.expiresAt };
    });
  }

  @GrpcMethod('AuthService', 'RevokeTemporaryAccessPass')
  @RequireScopes(GRPC_SCOPES.manage)
  async revokePass(@Payload(new ZodPipe(revokePassRequest)) request: z.infer<typeof revokePassRequest>, @CurrentPrincipal() principal: Principal) {
    return this.once(principal, 'RevokeTemporaryAccessPass', request, async () => {
      const result = await this.passes.revoke(request.user_id, request.pass_id, this.clock.now());
      return { already_revoked: result.alreadyRevoked };
    });
  }

  /**
   * S22: where the user is told about changes to their account. Addresses are personal data, so this
   * needs a service principal (role `service`) with its own scope, `contacts:read`, which factor
   * managers such as device-registry need not hold (least privilege). An unknown user has no
   * channel: the answer does not say whether an account exists.
   */
  @GrpcMethod('AuthService', 'ListContactChannels')
  @RequireRoles('service')
  @RequireScopes(GRPC_SCOPES.contacts)
  async listContactChannels(@Payload(new ZodPipe(contactsRequest)) request: z.infer<typeof contactsRequest>) {
    const channels = await this.contacts.list(request.user_id);
    return { channels: channels.map((channel) => ({ kind: channel.kind, address: channel.address, credential_id: channel.credentialId })) };
  }
}
