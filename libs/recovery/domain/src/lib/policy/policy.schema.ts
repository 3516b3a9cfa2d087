import { EVIDENCE_VERIFIER_KINDS, policyVersionSchema, RECOVERY_KINDS, RISK_SIGNALS } from '@tessera/contracts';
import { z } from 'zod';
import { MAX_DURATION_MS, tryParseDuration } from './duration';

/**
 * The recovery policy document, as an operator writes it (YAML or JSON). Strict objects throughout: an
 * unknown key is far more likely a misspelt setting ("coolingof") than a new one, and a misspelt
 * security setting must stop start-up, not fall back to something nobody chose.
 *
 * Cross-field rules (privileged stricter than standard, break-glass stricter than assisted, ...) are
 * in policy.ts, so that every problem in a document is reported in one pass.
 */
const HOUR_MS = 3_600_000;

/** A duration string turned into milliseconds, within [min, max]; `why` states the bounds to the operator. */
const duration = (why: string, min = 1, max = MAX_DURATION_MS) =>
  z.string().transform((text, ctx) => {
    const ms = tryParseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: use a whole number and one unit of s, m, h or d (e.g. "24h"), at most 366d` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `${text} is out of range: ${why}` });
      return z.NEVER;
    }
    return ms;
  });

const unique = <T extends z.ZodType>(item: T, min: number, max: number) =>
  z
    .array(item)
    .min(min)
    .max(max)
    .refine((values) => new Set(values as unknown[]).size === values.length, 'must not list a value twice');

const role = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,63}$/, 'must be a lowercase role name')
  // An end user approving recoveries would defeat the separation the quorum exists for (S25).
  .refine((name) => name !== 'user', '"user" cannot approve recoveries');

const kindSettingsSchema = z.strictObject({
  approvals: z.strictObject({
    /** k in k-of-n: how many distinct security officers must approve. */
    required: z.number().int().min(1).max(10),
    /** k for privileged subjects; must not be lower than `required`. */
    privilegedRequired: z.number().int().min(1).max(10),
    roles: unique(role, 1, 10).default(['security-officer']),
    timeout: duration('at least 1h', HOUR_MS),
    reminderInterval: duration('at least 1m', 60_000),
  }),
  evidence: z.strictObject({
    timeout: duration('at least 1h', HOUR_MS),
    acceptedVerifiers: unique(z.enum(EVIDENCE_VERIFIER_KINDS), 1, EVIDENCE_VERIFIER_KINDS.length),
  }),
  coolingOff: z.strictObject({
    // Under an hour the real user has no realistic chance to see the notice and cancel
    // (NIST SP 800-63B-4 §4.2: recovery notifies the subscriber; the wait is what makes that notice useful).
    base: duration('at least 1h', HOUR_MS),
    privilegedBase: duration('at least 1h', HOUR_MS),
    extensions: z.strictObject(
      Object.fromEntries(RISK_SIGNALS.map((signal) => [signal, duration('at most 366d', 0)])) as Record<
        (typeof RISK_SIGNALS)[number],
        ReturnType<typeof duration>
      >,
    ),
    maximum: duration('at least 1h', HOUR_MS),
    notifyBeforeCompletion: duration('at least 1m', 60_000),
  }),
  temporaryAccessPass: z.strictObject({
    // A TAP is a bearer secret; a short life bounds the harm of one that leaks in transit.
    lifetime: duration('between 1m and 24h', 60_000, 24 * HOUR_MS),
    /** Not a choice: S25 requires single use. Present so the document says so. */
    singleUse: z.literal(true),
    enrolmentTimeout: duration('between 1m and 7d', 60_000, 7 * 24 * HOUR_MS),
  }),
  restrictedPeriod: duration('at most 366d', 0),
  /** `all`: every factor that existed before the recovery; `lost-only`: those the subject reported lost. */
  revokeOldFactors: z.enum(['all', 'lost-only']),
  cancellation: z.strictObject({
    /** SMS is a restricted authenticator (NIST SP 800-63B-4 §3.1.3.3) and email weaker still; a policy may refuse both even for cancelling. */
    allowSmsOrEmail: z.boolean(),
    stepUpMaxAge: duration('between 1m and 1h', 60_000, HOUR_MS),
  }),
  onCallPage: z.boolean(),
  postIncidentReview: z.boolean(),
});

export const recoveryPolicyDocumentSchema = z.strictObject({
  policyVersion: policyVersionSchema,
  selection: z.strictObject({
    /** Members of any of these groups are privileged: longer cooling-off, possibly more approvals. */
    privilegedGroups: unique(z.string().min(1).max(200), 0, 1000),
    privilegedUserIds: unique(z.string().min(1).max(200), 0, 10_000),
  }),
  kinds: z.strictObject(
    Object.fromEntries(RECOVERY_KINDS.map((kind) => [kind, kindSettingsSchema])) as Record<(typeof RECOVERY_KINDS)[number], typeof kindSettingsSchema>,
  ),
});

/** A policy document as written (durations as strings). */
export type RecoveryPolicyDocument = z.input<typeof recoveryPolicyDocumentSchema>;
/** A policy document once parsed (durations in milliseconds, defaults filled in). */
export type ParsedRecoveryPolicyDocument = z.output<typeof recoveryPolicyDocumentSchema>;
