import { type Aal, type AmrValue, type AuthFactorKind } from '@tessera/contracts';

/**
 * What every authentication method declares about itself (registered once in `registry.ts`).
 */
export interface MethodDescriptor<K extends AuthFactorKind = AuthFactorKind> {
  readonly id: K;
  /**
   * The highest assurance level (NIST SP 800-63B-4 §2) the method reaches as the second factor next
   * to the IdP's password; WebAuthn refines it per credential (`webAuthnLevel`).
   */
  readonly aal: Aal;
  /** RFC 8176 values reported after a successful verification. */
  readonly amr: readonly AmrValue[];
  /** Its output can be guessed, so failures count against the S8 cap. */
  readonly guessable: boolean;
  /** A 63B "restricted" authenticator: a policy may forbid it (S7). */
  readonly restricted: boolean;
  /** A success proves the origin (63B-4 phishing resistance): it is never throttled and lifts the S8 lock. */
  readonly phishingResistant: boolean;
}

/**
 * The result of checking one attempt, in the only form the credentials decider accepts
 * (`RecordVerification`). A failure's `outcome` is the reason recorded in `VerificationFailed`.
 */
export type TotpEvidence =
  | { readonly kind: 'totp'; readonly outcome: 'match'; readonly timeStep: number }
  | { readonly kind: 'totp'; readonly outcome: 'no_match' | 'malformed' | 'replayed' };

export type WebAuthnEvidence =
  | { readonly kind: 'webauthn'; readonly outcome: 'match'; readonly signCount: number }
  | { readonly kind: 'webauthn'; readonly outcome: 'assertion_invalid' };

export type BackupCodeEvidence =
  | { readonly kind: 'backup_codes'; readonly outcome: 'match' }
  | { readonly kind: 'backup_codes'; readonly outcome: 'no_match' | 'malformed' | 'already_used' };

export type OutOfBandChannel = 'email_otp' | 'sms_otp';
export type OutOfBandEvidence<C extends OutOfBandChannel = OutOfBandChannel> = C extends OutOfBandChannel
  ?
      | { readonly kind: C; readonly outcome: 'match' }
      | { readonly kind: C; readonly outcome: 'no_match' | 'malformed' | 'expired' | 'already_used' }
  : never;

/** A Temporary Access Pass is verified on the recovery path; only its failures reach this stream (S8). */
export type TapEvidence = { readonly kind: 'tap'; readonly outcome: 'no_match' | 'malformed' | 'expired' | 'already_used' };

export type VerificationEvidence =
  | TotpEvidence
  | WebAuthnEvidence
  | BackupCodeEvidence
  | OutOfBandEvidence
  | TapEvidence;

export type EvidenceOf<K extends VerificationEvidence['kind']> = Extract<VerificationEvidence, { kind: K }>;

/**
 * The write that makes an accepted attempt single use (S1, S12, S15). The persistence layer applies it
 * atomically as a conditional UPDATE and treats "no row changed" as a failed attempt, so of parallel
 * submissions of one code exactly one wins:
 * - `advance_time_step`: `SET last_step = to WHERE last_step IS NULL OR last_step < to`
 * - `mark_used`: `SET used_at = at WHERE used_at IS NULL`
 */
export type ConditionalWrite =
  | { readonly kind: 'advance_time_step'; readonly to: number }
  | { readonly kind: 'mark_used'; readonly at: Date };

export interface VerificationResult<E extends VerificationEvidence> {
  readonly evidence: E;
  /** Present exactly when `evidence.outcome` is `match`. */
  readonly commit: ConditionalWrite | null;
}

/**
 * One authentication method (after Ory Kratos's strategies): a folder per method, this interface,
 * and one list in `registry.ts`. `verify` checks one attempt against what the credential store holds
 * for one credential; `now` is server time, never a client's (S3). Rules that need the account's
 * history (replay, counters, throttling) are applied again by the credentials decider.
 */
export interface AuthMethod<K extends AuthFactorKind, Stored, Attempt> {
  readonly descriptor: MethodDescriptor<K>;
  verify(stored: Stored, attempt: Attempt, now: Date): Promise<VerificationResult<EvidenceOf<K>>>;
}
