import { type EvidenceVerifierKind, RECOVERY_KINDS, RISK_SIGNALS, type RecoveryKind, type RiskSignal } from '@tessera/contracts';
import { type z } from 'zod';
import { tryParseDuration } from './duration';
import { type ParsedRecoveryPolicyDocument, recoveryPolicyDocumentSchema } from './policy.schema';

/**
 * Recovery policy as the deciders use it: validated, durations in milliseconds.
 *
 * A recovery is bound to the policy version it started under (its RecoveryRequested event records
 * `policyVersion`, and every later command must present that same version), so changing the policy
 * never changes the rules of a recovery already under way. Keep every published version loadable.
 */
export interface RecoveryKindSettings {
  readonly approvals: {
    readonly required: number;
    readonly privilegedRequired: number;
    readonly roles: readonly string[];
    readonly timeoutMs: number;
    readonly reminderIntervalMs: number;
  };
  readonly evidence: {
    readonly timeoutMs: number;
    readonly acceptedVerifiers: readonly EvidenceVerifierKind[];
  };
  readonly coolingOff: {
    readonly baseMs: number;
    readonly privilegedBaseMs: number;
    readonly extensionsMs: Readonly<Record<RiskSignal, number>>;
    readonly maximumMs: number;
    readonly notifyBeforeCompletionMs: number;
  };
  readonly temporaryAccessPass: {
    readonly lifetimeMs: number;
    readonly singleUse: true;
    readonly enrolmentTimeoutMs: number;
  };
  readonly restrictedPeriodMs: number;
  readonly revokeOldFactors: 'all' | 'lost-only';
  readonly cancellation: {
    readonly allowSmsOrEmail: boolean;
    readonly stepUpMaxAgeMs: number;
  };
  readonly onCallPage: boolean;
  readonly postIncidentReview: boolean;
}

export interface RecoveryPolicy {
  readonly policyVersion: string;
  readonly selection: {
    readonly privilegedGroups: readonly string[];
    readonly privilegedUserIds: readonly string[];
  };
  readonly kinds: Readonly<Record<RecoveryKind, RecoveryKindSettings>>;
  /** Set only by `drillPolicy`: a policy with shortened timers, good for synthetic accounts only. */
  readonly drill: { readonly timerFactor: number; readonly basePolicyVersion: string } | null;
}

/** Thrown by `validatePolicy` with every problem found, one `path: message` line each. */
export class PolicyValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Recovery policy is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `- ${p}`).join('\n')}`);
    this.name = 'PolicyValidationError';
  }
}

/**
 * Validates a policy document (parsed YAML or JSON) and returns the typed policy, or throws a
 * PolicyValidationError listing every problem. Call it at start-up for every policy version the
 * service may be asked for, so a bad document stops the service instead of a recovery.
 */
export function validatePolicy(document: unknown): RecoveryPolicy {
  const parsed = recoveryPolicyDocumentSchema.safeParse(document);
  const issues = parsed.success ? [] : parsed.error.issues;
  const invalidPaths = new Set(issues.map((issue) => issue.path.join('.')));
  const problems = [...issues.map(describeIssue), ...crossFieldProblems(document, invalidPaths)];
  if (!parsed.success || problems.length > 0) throw new PolicyValidationError(problems);
  return toPolicy(parsed.data);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return `${issue.path.length > 0 ? issue.path.join('.') : '(document)'}: ${issue.message}`;
}

/**
 * Rules that relate two settings. They read the raw document and skip a rule when one of its inputs is
 * itself invalid (that problem is already reported), so one pass reports every problem: zod runs
 * object-level refinements only when the whole object parsed, which would hide these behind the first
 * typo.
 */
function crossFieldProblems(document: unknown, invalidPaths: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const int = (path: string) => {
    const value = invalidPaths.has(path) ? undefined : valueAt(document, path);
    return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
  };
  const ms = (path: string) => (invalidPaths.has(path) ? undefined : tryParseDuration(valueAt(document, path)));
  const check = (path: string, holds: boolean | undefined, message: string) => {
    if (holds === false) problems.push(`${path}: ${message}`);
  };
  const compare = (a: number | undefined, b: number | undefined, test: (a: number, b: number) => boolean) =>
    a === undefined || b === undefined ? undefined : test(a, b);

  for (const kind of RECOVERY_KINDS) {
    const k = `kinds.${kind}`;
    check(
      `${k}.approvals.privilegedRequired`,
      compare(int(`${k}.approvals.privilegedRequired`), int(`${k}.approvals.required`), (p, s) => p >= s),
      'must be at least approvals.required: privileged subjects get stricter rules, never looser',
    );
    check(
      `${k}.approvals.reminderInterval`,
      compare(ms(`${k}.approvals.reminderInterval`), ms(`${k}.approvals.timeout`), (r, t) => r < t),
      'must be shorter than approvals.timeout, or no reminder is ever sent',
    );
    check(
      `${k}.coolingOff.privilegedBase`,
      compare(ms(`${k}.coolingOff.privilegedBase`), ms(`${k}.coolingOff.base`), (p, b) => p >= b),
      'must be at least coolingOff.base: privileged subjects get stricter rules, never looser',
    );
    check(
      `${k}.coolingOff.maximum`,
      compare(ms(`${k}.coolingOff.maximum`), largest(ms(`${k}.coolingOff.base`), ms(`${k}.coolingOff.privilegedBase`)), (m, b) => m >= b),
      'must be at least coolingOff.base and coolingOff.privilegedBase: the cap limits extensions, it never shortens the base',
    );
    check(
      `${k}.coolingOff.notifyBeforeCompletion`,
      compare(ms(`${k}.coolingOff.notifyBeforeCompletion`), ms(`${k}.coolingOff.base`), (n, b) => n < b),
      'must be shorter than coolingOff.base, so the notice falls inside the cooling-off',
    );
    check(
      `${k}.temporaryAccessPass.enrolmentTimeout`,
      compare(ms(`${k}.temporaryAccessPass.enrolmentTimeout`), ms(`${k}.temporaryAccessPass.lifetime`), (e, l) => e >= l),
      'must be at least temporaryAccessPass.lifetime, or a pass redeemed late could never be used',
    );
  }
  // DESIGN.md rung 5: break-glass trades a shorter wait for more people watching.
  check(
    'kinds.break-glass.approvals.required',
    compare(int('kinds.break-glass.approvals.required'), int('kinds.assisted.approvals.required'), (b, a) => b > a),
    'must exceed kinds.assisted.approvals.required: break-glass needs a stricter quorum',
  );
  check('kinds.break-glass.onCallPage', valueAt(document, 'kinds.break-glass.onCallPage') !== false, 'must be true: break-glass always pages on-call');
  check(
    'kinds.break-glass.postIncidentReview',
    valueAt(document, 'kinds.break-glass.postIncidentReview') !== false,
    'must be true: every break-glass gets a post-incident review',
  );
  return problems;
}

function largest(...values: (number | undefined)[]): number | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

function valueAt(document: unknown, path: string): unknown {
  let value: unknown = document;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function toPolicy(doc: ParsedRecoveryPolicyDocument): RecoveryPolicy {
  const kind = (settings: ParsedRecoveryPolicyDocument['kinds'][RecoveryKind]): RecoveryKindSettings => ({
    approvals: {
      required: settings.approvals.required,
      privilegedRequired: settings.approvals.privilegedRequired,
      roles: settings.approvals.roles,
      timeoutMs: settings.approvals.timeout,
      reminderIntervalMs: settings.approvals.reminderInterval,
    },
    evidence: { timeoutMs: settings.evidence.timeout, acceptedVerifiers: settings.evidence.acceptedVerifiers },
    coolingOff: {
      baseMs: settings.coolingOff.base,
      privilegedBaseMs: settings.coolingOff.privilegedBase,
      extensionsMs: Object.fromEntries(RISK_SIGNALS.map((signal) => [signal, settings.coolingOff.extensions[signal]])) as Record<RiskSignal, number>,
      maximumMs: settings.coolingOff.maximum,
      notifyBeforeCompletionMs: settings.coolingOff.notifyBeforeCompletion,
    },
    temporaryAccessPass: {
      lifetimeMs: settings.temporaryAccessPass.lifetime,
      singleUse: true,
      enrolmentTimeoutMs: settings.temporaryAccessPass.enrolmentTimeout,
    },
    restrictedPeriodMs: settings.restrictedPeriod,
    revokeOldFactors: settings.revokeOldFactors,
    cancellation: { allowSmsOrEmail: settings.cancellation.allowSmsOrEmail, stepUpMaxAgeMs: settings.cancellation.stepUpMaxAge },
    onCallPage: settings.onCallPage,
    postIncidentReview: settings.postIncidentReview,
  });
  return {
    policyVersion: doc.policyVersion,
    selection: { privilegedGroups: doc.selection.privilegedGroups, privilegedUserIds: doc.selection.privilegedUserIds },
    kinds: { assisted: kind(doc.kinds.assisted), 'break-glass': kind(doc.kinds['break-glass']) },
    drill: null,
  };
}

/** Who the policy is being applied to. `groups` come from the identity provider. */
export interface PolicySubject {
  readonly userId: string;
  readonly groups: readonly string[];
}

/** The selection rule: a subject listed by id, or in any privileged group, gets the stricter settings. */
export function isPrivilegedSubject(policy: RecoveryPolicy, subject: PolicySubject): boolean {
  return policy.selection.privilegedUserIds.includes(subject.userId) || subject.groups.some((group) => policy.selection.privilegedGroups.includes(group));
}

/** The settings that bind one recovery: its kind, with the privileged variants applied where they differ. */
export interface RecoveryRules {
  readonly policyVersion: string;
  readonly kind: RecoveryKind;
  readonly privileged: boolean;
  readonly requiredApprovals: number;
  readonly approverRoles: readonly string[];
  readonly approvalTimeoutMs: number;
  readonly approvalReminderIntervalMs: number;
  readonly evidenceTimeoutMs: number;
  readonly acceptedVerifiers: readonly EvidenceVerifierKind[];
  readonly coolingOffBaseMs: number;
  readonly coolingOffExtensionsMs: Readonly<Record<RiskSignal, number>>;
  readonly coolingOffMaximumMs: number;
  readonly notifyBeforeCompletionMs: number;
  readonly passLifetimeMs: number;
  readonly enrolmentTimeoutMs: number;
  readonly restrictedPeriodMs: number;
  readonly revokeOldFactors: 'all' | 'lost-only';
  readonly cancelAllowsSmsOrEmail: boolean;
  readonly cancelStepUpMaxAgeMs: number;
  readonly onCallPageRequired: boolean;
  readonly postIncidentReviewRequired: boolean;
}

export function rulesFor(policy: RecoveryPolicy, kind: RecoveryKind, privileged: boolean): RecoveryRules {
  const s = policy.kinds[kind];
  return {
    policyVersion: policy.policyVersion,
    kind,
    privileged,
    requiredApprovals: privileged ? s.approvals.privilegedRequired : s.approvals.required,
    approverRoles: s.approvals.roles,
    approvalTimeoutMs: s.approvals.timeoutMs,
    approvalReminderIntervalMs: s.approvals.reminderIntervalMs,
    evidenceTimeoutMs: s.evidence.timeoutMs,
    acceptedVerifiers: s.evidence.acceptedVerifiers,
    coolingOffBaseMs: privileged ? s.coolingOff.privilegedBaseMs : s.coolingOff.baseMs,
    coolingOffExtensionsMs: s.coolingOff.extensionsMs,
    coolingOffMaximumMs: s.coolingOff.maximumMs,
    notifyBeforeCompletionMs: s.coolingOff.notifyBeforeCompletionMs,
    passLifetimeMs: s.temporaryAccessPass.lifetimeMs,
    enrolmentTimeoutMs: s.temporaryAccessPass.enrolmentTimeoutMs,
    restrictedPeriodMs: s.restrictedPeriodMs,
    revokeOldFactors: s.revokeOldFactors,
    cancelAllowsSmsOrEmail: s.cancellation.allowSmsOrEmail,
    cancelStepUpMaxAgeMs: s.cancellation.stepUpMaxAgeMs,
    onCallPageRequired: s.onCallPage,
    postIncidentReviewRequired: s.postIncidentReview,
  };
}

export interface CoolingOffPlan {
  readonly durationMs: number;
  readonly extensionsApplied: readonly RiskSignal[];
  readonly capped: boolean;
}

/**
 * Cooling-off length: the base (privileged or not) plus one extension per risk signal present, capped
 * at the maximum. The cap bounds the whole period, not just the extensions, and never goes below the
 * base (validation guarantees maximum >= base).
 */
export function coolingOffFor(rules: RecoveryRules, riskSignals: readonly RiskSignal[]): CoolingOffPlan {
  const extensionsApplied = RISK_SIGNALS.filter((signal) => riskSignals.includes(signal) && rules.coolingOffExtensionsMs[signal] > 0);
  const uncapped = extensionsApplied.reduce((total, signal) => total + rules.coolingOffExtensionsMs[signal], rules.coolingOffBaseMs);
  return { durationMs: Math.min(uncapped, rules.coolingOffMaximumMs), extensionsApplied, capped: uncapped > rules.coolingOffMaximumMs };
}
