import type { AuthAttemptKind } from '@tessera/contracts';
import type { VerificationEvidence } from '@tessera/auth-domain';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';

/** The method names of `Verify(user, method, proof)` (REST and gRPC, libs/shared/contracts/proto/auth.proto). */
export const VERIFY_METHODS = ['totp', 'webauthn', 'backup_code', 'email_otp', 'sms_otp', 'temporary_access_pass'] as const;
export type VerifyMethod = (typeof VERIFY_METHODS)[number];

export interface AttemptInput {
  readonly userId: string;
  readonly proof: unknown;
  /** Server time (S3): never a client's. */
  readonly now: Date;
}

/** One attempt checked against the stored material, ready to be recorded with the decider. */
export interface PreparedAttempt {
  readonly credentialId: string | null;
  readonly evidence: VerificationEvidence;
  /**
   * The write that makes the acceptance single use (S1, S7, S12, S15), run in the transaction of the
   * events and only when they record a success. `false` means another request got there first: the
   * transaction is rolled back and the attempt is prepared again.
   */
  readonly commit?: (manager: EntityManager) => Promise<boolean>;
  /** Runs with the events whatever the outcome (e.g. a WebAuthn challenge is burnt by any use). */
  readonly always?: (manager: EntityManager) => Promise<void>;
}

/**
 * One authentication method as the service verifies it (after Ory Kratos's strategies): a folder per
 * method, this interface, one list in `method-registry.ts`. The rules live in @tessera/auth-domain;
 * a verifier loads the stored material, calls the method, and says how to commit the result.
 */
export interface MethodVerifier {
  readonly method: Exclude<VerifyMethod, 'temporary_access_pass'>;
  readonly kind: Exclude<AuthAttemptKind, 'tap'>;
  readonly proofSchema: z.ZodType;
  prepare(input: AttemptInput): Promise<PreparedAttempt>;
}
