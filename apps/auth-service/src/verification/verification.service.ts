import { Inject, Injectable } from '@nestjs/common';
import { type AddressThrottle, assessAddressAttempt, type CredentialsState, isGuessable, type RestrictedFactorPolicy } from '@tessera/auth-domain';
import type { Aal, Actor, AmrValue, AuthAttemptKind, AuthEventData } from '@tessera/contracts';
import { AppendGuardFailed, type JoinableRead, type LoadedStream, type NewEvent, PostgresEventStore, type StatementWrite } from '@tessera/event-store';
import { ApiError, CONFIG } from '@tessera/platform';
import { z } from 'zod';
import { AuthMetrics } from '../common/auth-metrics';
import type { AuthServiceConfig } from '../config/auth-config';
import { AccountService } from '../credentials/account.service';
import { METHOD_VERIFIER_LIST } from '../methods/method-registry';
import type { MethodVerifier, VerifyMethod } from '../methods/method-verifier';
import { TemporaryAccessPassService } from '../methods/temporary-access-pass/temporary-access-pass.service';
import { StepUpService } from '../step-up/step-up.service';
import { AddressThrottleStore } from './address-throttle.store';

/** Methods that cannot be guessed (WebAuthn) skip the address's failures (S9). */
const NO_ADDRESS_READ: JoinableRead<undefined> = { sql: 'SELECT 1 AS nothing WHERE false', params: [], decode: () => undefined };

export interface VerifyRequest {
  readonly userId: string;
  readonly method: VerifyMethod;
  readonly proof: unknown;
  /** The end user's address (S9), as the transport or a trusted caller reports it. */
  readonly clientAddress: string;
  readonly actor: Actor;
  readonly now: Date;
}

export interface VerifyOutcome {
  readonly method: VerifyMethod;
  readonly credentialId: string | null;
  readonly assuranceLevel: Aal;
  readonly amr: readonly AmrValue[];
  readonly stepUpAssertion: string;
  readonly expiresAt: string;
  readonly remainingBackupCodes?: number;
}

/**
 * `Verify(user, method, proof)` for REST and gRPC alike, in two round trips to the database:
 * 1. ONE statement reads the client address's recent failures (S9), the method's stored material and
 *    the account (its snapshot and the events after it), all from one database snapshot;
 * 2. the address gate — an address is cut off long before any account — then the method checks the
 *    proof (one KDF at most, seeds decrypted only here);
 * 3. the credentials decider records the verdict under the account's history (S1 replay, S8 cap and
 *    backoff, S19 counter), and ONE statement appends the events together with the single-use guard
 *    (S1, S7, S12, S15), the read model and the address failure: all of it or none of it;
 * 4. a success returns a signed step-up assertion (ES256, RFC 8176 `amr`).
 * A lost race — the guard found the step, code or challenge already used, or another event was appended
 * first — costs one more round of the same, which then records what happened (e.g. a replay).
 */
@Injectable()
export class VerificationService {
  private readonly verifiers: ReadonlyMap<VerifyMethod, MethodVerifier>;
  private readonly policy: RestrictedFactorPolicy;

  constructor(
    @Inject(METHOD_VERIFIER_LIST) verifiers: readonly MethodVerifier[],
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(AddressThrottleStore) private readonly addresses: AddressThrottleStore,
    @Inject(PostgresEventStore) private readonly store: PostgresEventStore,
    @Inject(StepUpService) private readonly stepUp: StepUpService,
    @Inject(TemporaryAccessPassService) private readonly passes: TemporaryAccessPassService,
    @Inject(AuthMetrics) private readonly metrics: AuthMetrics,
    @Inject(CONFIG) config: AuthServiceConfig,
  ) {
    this.verifiers = new Map(verifiers.map((verifier) => [verifier.method, verifier]));
    this.policy = { allowEmailOtp: config.AUTH_ALLOW_EMAIL_OTP, allowSmsOtp: config.AUTH_ALLOW_SMS_OTP };
  }

  async verify(request: VerifyRequest): Promise<VerifyOutcome> {
    const { userId, method, clientAddress, actor, now } = request;
    if (method === 'temporary_access_pass') {
      await this.assertAddressAllowed(method, 'tap', clientAddress, now);
      return this.verifyPass(request);
    }
    const verifier = this.verifierOf(method);
    const kind = verifier.kind;
    const proof = verifier.proofSchema.parse(request.proof);
    const input = { userId, proof, now };
    for (let round = 0; round < 3; round++) {
      const [address, material, snapshotLoaded] = await this.store.readTogether<[AddressThrottle | undefined, unknown, LoadedStream<CredentialsState> | undefined]>([
        isGuessable(kind) ? this.addresses.read(clientAddress, now) : NO_ADDRESS_READ,
        verifier.read(input),
        this.accounts.streamRead(userId),
      ]);
      const loaded = snapshotLoaded ?? (await this.accounts.loadStream(userId));
      if (address !== undefined) this.assertAddressGate(method, kind, address, now);
      const prepared = await verifier.check(material, input);
      const writes = (events: readonly NewEvent[]): StatementWrite[] =>
        events.some((event) => event.type === 'VerificationSucceeded')
          ? [...(prepared.onSuccess ?? [])]
          : [...(prepared.onFailure ?? []), ...(isGuessable(kind) ? this.addresses.failureWrites(clientAddress, now) : [])];
      let events;
      try {
        ({ events } = await this.accounts.execute(
          { type: 'RecordVerification', userId, now, credentialId: prepared.credentialId, evidence: prepared.evidence, policy: this.policy },
          actor,
          { loaded, writes },
        ));
      } catch (error) {
        // Another request used the same step, code or challenge first: check the proof again.
        if (error instanceof AppendGuardFailed) continue;
        throw error;
      }
      const success = events.find((event) => event.type === 'VerificationSucceeded');
      if (success === undefined) {
        const failure = events.find((event) => event.type === 'VerificationFailed')?.data as AuthEventData<'VerificationFailed'> | undefined;
        this.metrics.verifications.inc({ method, outcome: failure?.reason ?? 'failed' });
        throw new ApiError(422, 'verification_failed', `The ${method} proof was not accepted (${failure?.reason ?? 'failed'}).`);
      }
      const data = success.data as AuthEventData<'VerificationSucceeded'>;
      const used = events.find((event) => event.type === 'BackupCodeUsed')?.data as AuthEventData<'BackupCodeUsed'> | undefined;
      const issued = this.stepUp.issue({ userId, method, credentialId: data.credentialId, aal: data.aal, amr: data.amr, authenticatedAt: now }, now);
      this.metrics.verifications.inc({ method, outcome: 'match' });
      return {
        method,
        credentialId: data.credentialId,
        assuranceLevel: data.aal,
        amr: data.amr,
        stepUpAssertion: issued.assertion,
        expiresAt: issued.expiresAt.toISOString(),
        ...(used ? { remainingBackupCodes: used.remaining } : {}),
      };
    }
    throw new ApiError(409, 'concurrent_modification', 'The proof was used by a concurrent request; try again.');
  }

  private async assertAddressAllowed(method: VerifyMethod, kind: AuthAttemptKind, clientAddress: string, now: Date): Promise<void> {
    if (isGuessable(kind)) this.assertAddressGate(method, kind, await this.addresses.load(clientAddress, now), now);
  }

  /** S9: an address is cut off long before any account, before the guess is even evaluated. */
  private assertAddressGate(method: VerifyMethod, kind: AuthAttemptKind, address: AddressThrottle, now: Date): void {
    const decision = assessAddressAttempt(address, kind, now);
    if (!decision.allowed) {
      this.metrics.verifications.inc({ method, outcome: 'address_limit' });
      throw new ApiError(429, 'address_limit', `Too many failed attempts from this address; retry after ${decision.retryAt?.toISOString()}.`);
    }
  }

  /** A Temporary Access Pass: single use, short-lived, good only for enrolling (S25). */
  private async verifyPass(request: VerifyRequest): Promise<VerifyOutcome> {
    const proof = z.object({ code: z.string().min(1).max(64) }).strict().parse(request.proof);
    const pass = await this.passes.redeem(request.userId, proof.code, request.clientAddress, request.actor, request.now, this.policy);
    const issued = this.stepUp.issue(
      {
        userId: request.userId,
        method: 'temporary_access_pass',
        credentialId: null,
        aal: 1,
        amr: ['otp'],
        authenticatedAt: request.now,
        recovery: { recoveryId: pass.recoveryId, passExpiresAt: pass.expiresAt },
      },
      request.now,
    );
    this.metrics.verifications.inc({ method: 'temporary_access_pass', outcome: 'match' });
    return {
      method: 'temporary_access_pass',
      credentialId: null,
      assuranceLevel: 1,
      amr: ['otp'],
      stepUpAssertion: issued.assertion,
      expiresAt: issued.expiresAt.toISOString(),
    };
  }

  private verifierOf(method: VerifyMethod): MethodVerifier {
    const verifier = this.verifiers.get(method);
    if (verifier === undefined) throw new ApiError(400, 'unknown_method', `Unknown verification method ${method}.`);
    return verifier;
  }
}
