import { UUID_PATTERN } from '@tessera/util';
import { z } from 'zod';

/**
 * Integration events of auth-service (topic `tessera.auth.v1`, stream `auth-user-<userId>`): one zod
 * schema per event `data`. Every `data` carries `userId` (the Kafka key, DESIGN.md "Events") and
 * never a secret — no seed, code, hash, salt, TAP or key (DESIGN.md; SECURITY.md S29). Schemas are
 * strict: an unexpected field, the usual way a secret slips into an event, fails validation.
 */

export const AUTH_FACTOR_KINDS = ['totp', 'webauthn', 'backup_codes', 'email_otp', 'sms_otp'] as const;
export const authFactorKindSchema = z.enum(AUTH_FACTOR_KINDS);
export type AuthFactorKind = z.infer<typeof authFactorKindSchema>;

/**
 * What a guess can be made against: the factors plus the recovery Temporary Access Pass, which is
 * guessable too and shares the account's failure count (SECURITY.md S8).
 */
export const AUTH_ATTEMPT_KINDS = [...AUTH_FACTOR_KINDS, 'tap'] as const;
export const authAttemptKindSchema = z.enum(AUTH_ATTEMPT_KINDS);
export type AuthAttemptKind = z.infer<typeof authAttemptKindSchema>;

/** NIST SP 800-63B-4 authentication assurance levels. */
export const aalSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);
export type Aal = z.infer<typeof aalSchema>;

/** RFC 8176 §2 "Authentication Method Reference Values" (the registered `amr` values). */
export const AMR_VALUES = [
  'face', 'fpt', 'geo', 'hwk', 'iris', 'kba', 'mca', 'mfa', 'otp', 'pin', 'pop',
  'pwd', 'rba', 'retina', 'sc', 'sms', 'swk', 'tel', 'user', 'vbm', 'wia',
] as const;
export const amrValueSchema = z.enum(AMR_VALUES);
export type AmrValue = z.infer<typeof amrValueSchema>;

export const TOTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export const totpAlgorithmSchema = z.enum(TOTP_ALGORITHMS);
export type TotpAlgorithm = z.infer<typeof totpAlgorithmSchema>;

/**
 * Accepted TOTP parameters. 6–8 digits is what RFC 4226 §5.3 and common authenticator apps support;
 * periods outside 15–120 s are either too short for a person to type or widen the window an observed
 * code stays valid (RFC 6238 §5.2 recommends 30 s).
 */
export const TOTP_LIMITS = { minDigits: 6, maxDigits: 8, minPeriodSeconds: 15, maxPeriodSeconds: 120 } as const;

const userId = z.string().min(1).max(200);
const credentialId = z.string().regex(UUID_PATTERN, 'must be a lowercase UUID');
const displayName = z.string().min(1).max(64);
const count = z.number().int().min(0);
const instant = z.iso.datetime({ offset: false });
/** An AAGUID is 16 authenticator-model bytes in UUID notation, not an RFC 9562 UUID (it may be all zero). */
export const AAGUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const aaguid = z.string().regex(AAGUID_PATTERN);
/** A masked address such as `a•••@example.com` or `•••••••89`: enough to recognise, never the address. */
const destinationHint = z.string().min(1).max(100);
/** A recovery as the recovery-orchestrator names it; with `passId`, what a recovery fact may carry (never the pass). */
const recoveryId = z.string().min(1).max(200);
const passId = z.string().regex(UUID_PATTERN, 'must be a lowercase UUID');

/**
 * The recovery a factor was bound under (S21: "a valid TAP inside a completed recovery"): the recovery
 * and the id of the Temporary Access Pass redeemed for it, so that the recovery-orchestrator can record
 * the enrolment against that pass. Absent for every binding made inside an ordinary step-up.
 */
export const boundUnderRecoverySchema = z.object({ recoveryId, passId }).strict();
export type BoundUnderRecovery = z.infer<typeof boundUnderRecoverySchema>;

export const totpEnrolledSchema = z
  .object({
    userId,
    credentialId,
    name: displayName,
    algorithm: totpAlgorithmSchema,
    digits: z.number().int().min(TOTP_LIMITS.minDigits).max(TOTP_LIMITS.maxDigits),
    period: z.number().int().min(TOTP_LIMITS.minPeriodSeconds).max(TOTP_LIMITS.maxPeriodSeconds),
    source: z.enum(['generated', 'imported']),
    recovery: boundUnderRecoverySchema.optional(),
  })
  .strict();

/**
 * `acceptedTimeStep` is the step of the confirming code, so that code cannot be replayed to sign in (S1).
 * `recovery` repeats the enrolment's: the app becomes a factor here, so this is the binding a recovery waits for.
 */
export const totpConfirmedSchema = z.object({ userId, credentialId, acceptedTimeStep: count, recovery: boundUnderRecoverySchema.optional() }).strict();

export const webAuthnCredentialRegisteredSchema = z
  .object({
    userId,
    credentialId,
    name: displayName,
    aaguid,
    /** Not backup-eligible (BE flag clear): the private key cannot leave the authenticator. */
    deviceBound: z.boolean(),
    signCount: count,
    recovery: boundUnderRecoverySchema.optional(),
  })
  .strict();

export const backupCodesGeneratedSchema = z
  .object({ userId, credentialId, count: z.number().int().min(1).max(20), replacedCredentialId: credentialId.nullable() })
  .strict();

export const backupCodeUsedSchema = z.object({ userId, credentialId, remaining: count }).strict();

export const backupCodesLowSchema = z.object({ userId, credentialId, remaining: count, threshold: count }).strict();

export const emailOtpChannelAddedSchema = z.object({ userId, credentialId, destinationHint }).strict();

export const smsOtpChannelAddedSchema = z.object({ userId, credentialId, destinationHint }).strict();

export const CREDENTIAL_REVOCATION_REASONS = ['user_removed', 'recovery', 'incident'] as const;
export const credentialRevokedSchema = z
  .object({
    userId,
    credentialId,
    kind: authFactorKindSchema,
    reason: z.enum(CREDENTIAL_REVOCATION_REASONS),
    /** The recovery or incident id when the revocation was part of one. */
    referenceId: z.string().min(1).max(200).nullable(),
  })
  .strict();

export const verificationSucceededSchema = z
  .object({
    userId,
    credentialId,
    kind: authFactorKindSchema,
    aal: aalSchema,
    amr: z.array(amrValueSchema).min(1),
    /** TOTP: the accepted time step, the value S1's replay rule compares against. */
    timeStep: count.nullable(),
    /** WebAuthn: the signature counter stored after every success (S19). */
    signCount: count.nullable(),
  })
  .strict();

export const VERIFICATION_FAILURE_REASONS = [
  'no_match',
  'malformed',
  'replayed',
  'expired',
  'already_used',
  'assertion_invalid',
  'counter_not_increasing',
] as const;
export const verificationFailedSchema = z
  .object({
    userId,
    /** Null when no credential matched (e.g. a TOTP code that fits none of the user's apps). */
    credentialId: credentialId.nullable(),
    kind: authAttemptKindSchema,
    reason: z.enum(VERIFICATION_FAILURE_REASONS),
    /** Server time of the failure: the throttle's delays run from it (S8). */
    failedAt: instant,
  })
  .strict();

export const throttleEngagedSchema = z
  .object({
    userId,
    /** `delayed`: growing waits between guesses began; `locked`: the S8 cap of consecutive failures was reached. */
    stage: z.enum(['delayed', 'locked']),
    kind: authAttemptKindSchema,
    consecutiveFailures: count,
    /** When the next guess is allowed; null once locked (only a reset lifts it). */
    retryAt: instant.nullable(),
  })
  .strict();

export const THROTTLE_RESET_REASONS = ['phishing_resistant_sign_in', 'recovery_completed', 'admin_unlock'] as const;
export const throttleResetSchema = z
  .object({
    userId,
    reason: z.enum(THROTTLE_RESET_REASONS),
    /** The credential, recovery or audited unlock ticket behind the reset. */
    referenceId: z.string().min(1).max(200),
  })
  .strict();

export const possibleClonedAuthenticatorDetectedSchema = z
  .object({ userId, credentialId, storedSignCount: count, presentedSignCount: count })
  .strict();

/**
 * A Temporary Access Pass was redeemed (S25: once, before it expires): the fact the recovery-orchestrator
 * waits for after issuing it. The pass's id and its recovery only; the pass itself never leaves the
 * HMAC it is stored as (S29, S32).
 */
export const temporaryAccessPassConsumedSchema = z.object({ userId, passId, recoveryId }).strict();

export const credentialsFrozenSchema = z
  .object({ userId, incidentId: z.string().min(1).max(200), reason: z.string().min(1).max(500) })
  .strict();

export const credentialsUnfrozenSchema = z.object({ userId, incidentId: z.string().min(1).max(200) }).strict();

/** Every auth event type and the schema of its `data`, keyed by type name (past tense). */
export const AUTH_EVENT_SCHEMAS = {
  TotpEnrolled: totpEnrolledSchema,
  TotpConfirmed: totpConfirmedSchema,
  WebAuthnCredentialRegistered: webAuthnCredentialRegisteredSchema,
  BackupCodesGenerated: backupCodesGeneratedSchema,
  BackupCodeUsed: backupCodeUsedSchema,
  BackupCodesLow: backupCodesLowSchema,
  EmailOtpChannelAdded: emailOtpChannelAddedSchema,
  SmsOtpChannelAdded: smsOtpChannelAddedSchema,
  CredentialRevoked: credentialRevokedSchema,
  VerificationSucceeded: verificationSucceededSchema,
  VerificationFailed: verificationFailedSchema,
  ThrottleEngaged: throttleEngagedSchema,
  ThrottleReset: throttleResetSchema,
  PossibleClonedAuthenticatorDetected: possibleClonedAuthenticatorDetectedSchema,
  TemporaryAccessPassConsumed: temporaryAccessPassConsumedSchema,
  CredentialsFrozen: credentialsFrozenSchema,
  CredentialsUnfrozen: credentialsUnfrozenSchema,
} as const;

export type AuthEventType = keyof typeof AUTH_EVENT_SCHEMAS;
export type AuthEventData<T extends AuthEventType> = z.infer<(typeof AUTH_EVENT_SCHEMAS)[T]>;

/** An auth event as deciders produce it: the type and its data (the envelope is added when stored). */
export type AuthEvent = { [T in AuthEventType]: { readonly type: T; readonly data: AuthEventData<T> } }[AuthEventType];

export const AUTH_EVENT_TYPES = Object.keys(AUTH_EVENT_SCHEMAS) as AuthEventType[];

export function isAuthEventType(type: string): type is AuthEventType {
  return Object.hasOwn(AUTH_EVENT_SCHEMAS, type);
}

/**
 * Validates an event's `data` against the schema of its `type` (at every boundary, DESIGN.md "Events").
 * Throws on an unknown type or invalid data; a consumer sends the message to the dead-letter topic with
 * the error as its reason.
 */
export function parseAuthEvent(type: string, data: unknown): AuthEvent {
  if (!isAuthEventType(type)) throw new Error(`unknown auth event type "${type}"`);
  return { type, data: AUTH_EVENT_SCHEMAS[type].parse(data) } as AuthEvent;
}
