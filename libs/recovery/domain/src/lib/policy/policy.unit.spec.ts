import { DEFAULT_RECOVERY_POLICY, DEFAULT_RECOVERY_POLICY_DOCUMENT } from './default-policy';
import { formatDuration, parseDuration, tryParseDuration } from './duration';
import { coolingOffFor, isPrivilegedSubject, PolicyValidationError, type RecoveryPolicy, rulesFor, validatePolicy } from './policy';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The tests break documents on purpose, so they edit them untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LooseDocument = any;

/** A copy of the default document with `change` applied. */
const docWith = (change: (doc: LooseDocument) => void): unknown => {
  const doc = structuredClone(DEFAULT_RECOVERY_POLICY_DOCUMENT);
  change(doc);
  return doc;
};

function problemsOf(document: unknown): readonly string[] {
  try {
    validatePolicy(document);
  } catch (error) {
    if (error instanceof PolicyValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the policy to be refused');
}

const pathsOf = (problems: readonly string[]) => problems.map((problem) => problem.slice(0, problem.indexOf(':'))).sort();

describe('durations', () => {
  it.each([
    ['60s', 60_000],
    ['15m', 15 * 60_000],
    ['24h', DAY],
    ['72h', 3 * DAY],
    ['7d', 7 * DAY],
    ['0s', 0],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '24', '1.5d', '24 h', ' 24h', '24H', '1d12h', '-1h', '024h', 'P1D', 'PT24H', '1w', '24hrs', '367d', '1000000s'])('refuses %j', (text) => {
    expect(tryParseDuration(text)).toBeUndefined();
    expect(() => parseDuration(text)).toThrow(RangeError);
  });

  it('refuses what is not a string', () => {
    expect(tryParseDuration(24)).toBeUndefined();
  });

  it.each([
    [3 * DAY, '3d'],
    [90_000, '90s'],
    [HOUR, '1h'],
    [0, '0s'],
    [1_500, '1500ms'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('validatePolicy', () => {
  it("the default document is valid and says what DESIGN.md's defaults say", () => {
    const assisted = DEFAULT_RECOVERY_POLICY.kinds.assisted;
    expect(assisted.approvals).toMatchObject({ required: 2, roles: ['security-officer'], timeoutMs: 72 * HOUR });
    expect(assisted.coolingOff).toMatchObject({ baseMs: 24 * HOUR, privilegedBaseMs: 72 * HOUR });
    expect(assisted.temporaryAccessPass).toEqual({ lifetimeMs: HOUR, singleUse: true, enrolmentTimeoutMs: 2 * HOUR });
    expect(assisted.restrictedPeriodMs).toBe(7 * DAY);
    expect(DEFAULT_RECOVERY_POLICY.drill).toBeNull();
  });

  it('approver roles default to security-officer', () => {
    const policy = validatePolicy(
      docWith((doc) => {
        delete doc.kinds.assisted.approvals.roles;
      }),
    );
    expect(policy.kinds.assisted.approvals.roles).toEqual(['security-officer']);
  });

  it('lists every problem of a document in one pass, cross-field rules included', () => {
    const problems = problemsOf(
      docWith((doc) => {
        doc.policyVersion = 'has spaces';
        doc.kinds.assisted.coolingOff.base = '24 h';
        doc.kinds.assisted.coolingof = { base: '1h' };
        doc.kinds.assisted.approvals.privilegedRequired = 1;
        doc.kinds.assisted.temporaryAccessPass.singleUse = false;
        doc.kinds.assisted.temporaryAccessPass.lifetime = '2d';
        doc.kinds.assisted.evidence.acceptedVerifiers = ['security-question'];
        doc.kinds['break-glass'].approvals.required = 2;
        doc.kinds['break-glass'].onCallPage = false;
        doc.kinds['break-glass'].coolingOff.notifyBeforeCompletion = '5h';
      }),
    );
    expect(pathsOf(problems)).toEqual(
      [
        'policyVersion',
        'kinds.assisted',
        'kinds.assisted.coolingOff.base',
        'kinds.assisted.approvals.privilegedRequired',
        'kinds.assisted.temporaryAccessPass.singleUse',
        'kinds.assisted.temporaryAccessPass.lifetime',
        'kinds.assisted.evidence.acceptedVerifiers.0',
        'kinds.break-glass.approvals.required',
        'kinds.break-glass.onCallPage',
        'kinds.break-glass.coolingOff.notifyBeforeCompletion',
      ].sort(),
    );
  });

  it('the error message lists each problem on its own line', () => {
    const error = (() => {
      try {
        validatePolicy(docWith((doc) => (doc.kinds.assisted.restrictedPeriod = 'a week')));
      } catch (caught) {
        return caught as PolicyValidationError;
      }
      throw new Error('expected a PolicyValidationError');
    })();
    expect(error).toBeInstanceOf(PolicyValidationError);
    expect(error.message).toMatch(/^Recovery policy is invalid \(1 problem\):\n- kinds\.assisted\.restrictedPeriod: "a week" is not a duration/);
  });

  it('S26: no security-question verifier can be configured', () => {
    expect(problemsOf(docWith((doc) => (doc.kinds.assisted.evidence.acceptedVerifiers = ['security-question'])))).toEqual([
      expect.stringMatching(/^kinds\.assisted\.evidence\.acceptedVerifiers\.0: /),
    ]);
  });

  it('S25: a pass cannot be made reusable', () => {
    expect(pathsOf(problemsOf(docWith((doc) => (doc.kinds['break-glass'].temporaryAccessPass.singleUse = false))))).toEqual([
      'kinds.break-glass.temporaryAccessPass.singleUse',
    ]);
  });

  it('S25: end users cannot be approvers', () => {
    expect(pathsOf(problemsOf(docWith((doc) => (doc.kinds.assisted.approvals.roles = ['security-officer', 'user']))))).toEqual([
      'kinds.assisted.approvals.roles.1',
    ]);
  });

  it.each([
    ['kinds.assisted.approvals.privilegedRequired', (doc: LooseDocument) => (doc.kinds.assisted.approvals.privilegedRequired = 1)],
    ['kinds.assisted.approvals.reminderInterval', (doc: LooseDocument) => (doc.kinds.assisted.approvals.reminderInterval = '72h')],
    ['kinds.assisted.coolingOff.privilegedBase', (doc: LooseDocument) => (doc.kinds.assisted.coolingOff.privilegedBase = '12h')],
    ['kinds.assisted.coolingOff.maximum', (doc: LooseDocument) => (doc.kinds.assisted.coolingOff.maximum = '48h')],
    ['kinds.assisted.coolingOff.notifyBeforeCompletion', (doc: LooseDocument) => (doc.kinds.assisted.coolingOff.notifyBeforeCompletion = '24h')],
    ['kinds.assisted.temporaryAccessPass.enrolmentTimeout', (doc: LooseDocument) => (doc.kinds.assisted.temporaryAccessPass.enrolmentTimeout = '30m')],
    ['kinds.break-glass.approvals.required', (doc: LooseDocument) => (doc.kinds['break-glass'].approvals.required = 2)],
    ['kinds.break-glass.onCallPage', (doc: LooseDocument) => (doc.kinds['break-glass'].onCallPage = false)],
    ['kinds.break-glass.postIncidentReview', (doc: LooseDocument) => (doc.kinds['break-glass'].postIncidentReview = false)],
    ['kinds.assisted.coolingOff.base', (doc: LooseDocument) => (doc.kinds.assisted.coolingOff.base = '30m')],
    ['kinds.assisted.cancellation.stepUpMaxAge', (doc: LooseDocument) => (doc.kinds.assisted.cancellation.stepUpMaxAge = '2h')],
    ['selection.privilegedGroups', (doc: LooseDocument) => (doc.selection.privilegedGroups = ['admins', 'admins'])],
  ])('refuses a document that breaks %s', (path, change) => {
    expect(pathsOf(problemsOf(docWith(change)))).toEqual([path]);
  });

  it('refuses what is not a policy document at all', () => {
    expect(problemsOf('policy: yes')).toEqual(['(document): Invalid input: expected object, received string']);
  });
});

describe('policy selection and rules', () => {
  const policy: RecoveryPolicy = validatePolicy(
    docWith((doc) => {
      doc.selection.privilegedUserIds = ['user-root-1'];
      doc.kinds.assisted.approvals.privilegedRequired = 3;
      doc.kinds['break-glass'].approvals.required = 4;
      doc.kinds['break-glass'].approvals.privilegedRequired = 4;
    }),
  );

  it('privileged by group membership', () => {
    expect(isPrivilegedSubject(policy, { userId: 'user-1', groups: ['staff', 'tessera-admins'] })).toBe(true);
  });

  it('privileged by user id', () => {
    expect(isPrivilegedSubject(policy, { userId: 'user-root-1', groups: [] })).toBe(true);
  });

  it('not privileged otherwise', () => {
    expect(isPrivilegedSubject(policy, { userId: 'user-1', groups: ['staff'] })).toBe(false);
  });

  it('privileged subjects get the stricter quorum and the longer cooling-off', () => {
    expect(rulesFor(policy, 'assisted', false)).toMatchObject({ requiredApprovals: 2, coolingOffBaseMs: 24 * HOUR, privileged: false });
    expect(rulesFor(policy, 'assisted', true)).toMatchObject({ requiredApprovals: 3, coolingOffBaseMs: 72 * HOUR, privileged: true });
  });

  it('break-glass rules page on-call and require a review', () => {
    expect(rulesFor(policy, 'break-glass', false)).toMatchObject({ requiredApprovals: 4, onCallPageRequired: true, postIncidentReviewRequired: true });
  });

  describe('cooling-off length', () => {
    const rules = rulesFor(DEFAULT_RECOVERY_POLICY, 'assisted', false);

    it('is the base without risk signals', () => {
      expect(coolingOffFor(rules, [])).toEqual({ durationMs: 24 * HOUR, extensionsApplied: [], capped: false });
    });

    it('adds each signal once', () => {
      expect(coolingOffFor(rules, ['new-device', 'new-device'])).toEqual({ durationMs: 48 * HOUR, extensionsApplied: ['new-device'], capped: false });
    });

    it('is capped at the maximum, and says so', () => {
      const privileged = rulesFor(DEFAULT_RECOVERY_POLICY, 'assisted', true);
      // 72 h + 24 + 24 + 48 = 168 h = the 7 d maximum: reached, not exceeded.
      expect(coolingOffFor(privileged, ['new-network', 'new-device', 'recent-factor-change'])).toMatchObject({ durationMs: 7 * DAY, capped: false });
      const tight = rulesFor(validatePolicy(docWith((doc) => (doc.kinds.assisted.coolingOff.maximum = '3d'))), 'assisted', true);
      expect(coolingOffFor(tight, ['new-network'])).toEqual({ durationMs: 3 * DAY, extensionsApplied: ['new-network'], capped: true });
    });

    it('a zero extension is not listed as applied', () => {
      const none = rulesFor(validatePolicy(docWith((doc) => (doc.kinds.assisted.coolingOff.extensions['new-device'] = '0s'))), 'assisted', false);
      expect(coolingOffFor(none, ['new-device'])).toEqual({ durationMs: 24 * HOUR, extensionsApplied: [], capped: false });
    });
  });
});
