import type { AuthAttemptKind } from '@tessera/contracts';
import type { VerificationEvidence } from '@tessera/auth-domain';
import type { JoinableRead, StatementWrite } from '@tessera/event-store';
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
   * When the events record a success: the guard that makes the acceptance single use (S1, S7, S12,
   * S15) — an atomic conditional UPDATE in the append's own statement — and what goes with it. A guard
   * that changes no row means another request got there first: nothing is stored and the attempt is
   * checked again.
   */
  readonly onSuccess?: readonly StatementWrite[];
  /** When the events record a failure (e.g. a WebAuthn challenge is burnt by any use, S15). */
  readonly onFailure?: readonly StatementWrite[];
}

/**
 * One authentication method as the service verifies it (after Ory Kratos's strategies): a folder per
 * method, this interface, one list in `method-registry.ts`. The rules live in @tessera/auth-domain.
 * A verifier reads the stored material with one SELECT (`read`, which shares its statement with the reads
 * of the account and of the client address: one round trip), then checks the proof against it (`check`: decryption, MAC, KDF, signature —
 * only once the address gate has let the attempt through) and says how to commit the result.
 */
export interface MethodVerifier<Material = unknown> {
  readonly method: Exclude<VerifyMethod, 'temporary_access_pass'>;
  readonly kind: Exclude<AuthAttemptKind, 'tap'>;
  readonly proofSchema: z.ZodType;
  read(input: AttemptInput): JoinableRead<Material>;
  check(material: Material, input: AttemptInput): Promise<PreparedAttempt>;
}
