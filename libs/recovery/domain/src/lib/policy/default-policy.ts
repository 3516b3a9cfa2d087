import { type RecoveryPolicy, validatePolicy } from './policy';
import { type RecoveryPolicyDocument } from './policy.schema';

/**
 * The policy Tessera starts from (DESIGN.md "Policies"): 2 approvals from `security-officer`,
 * cooling-off 24 h (72 h for privileged users), approval timeout 72 h, TAP lifetime 1 h and single use,
 * restricted period 7 days. Values DESIGN.md leaves open are chosen and explained here.
 */
export const DEFAULT_RECOVERY_POLICY_DOCUMENT: RecoveryPolicyDocument = {
  policyVersion: 'default-1',
  selection: {
    privilegedGroups: ['tessera-admins', 'security-officers'],
    privilegedUserIds: [],
  },
  kinds: {
    assisted: {
      approvals: { required: 2, privilegedRequired: 2, roles: ['security-officer'], timeout: '72h', reminderInterval: '24h' },
      evidence: { timeout: '72h', acceptedVerifiers: ['idv-webhook', 'helpdesk-attestation'] },
      coolingOff: {
        base: '24h',
        privilegedBase: '72h',
        // Each signal is a reason to give the real user longer to notice (NIST SP 800-63B-4 §4.2 asks
        // that recovery notify the subscriber; a longer wait makes the notice count). A request from an
        // unseen network or device adds a day; a factor changed just before the request (the pattern
        // of an attacker preparing a takeover) adds two.
        extensions: { 'new-network': '24h', 'new-device': '24h', 'recent-factor-change': '48h' },
        maximum: '7d',
        notifyBeforeCompletion: '6h',
      },
      // Enrolment may run an hour past the pass's own expiry: a pass redeemed at minute 59 must still
      // leave time to finish a WebAuthn ceremony.
      temporaryAccessPass: { lifetime: '1h', singleUse: true, enrolmentTimeout: '2h' },
      restrictedPeriod: '7d',
      // A user who still held another factor would have used it (DESIGN.md rung 1), so whatever
      // existed before the recovery is presumed lost or in someone else's hands.
      revokeOldFactors: 'all',
      // Letting SMS or email cancel only ever stops a recovery, which is the safe direction.
      cancellation: { allowSmsOrEmail: true, stepUpMaxAge: '10m' },
      onCallPage: false,
      postIncidentReview: false,
    },
    'break-glass': {
      // An emergency cannot wait three days, so break-glass shortens the waits and makes up for it
      // with a third approver, a page to on-call and a review that stays open until someone closes it.
      approvals: { required: 3, privilegedRequired: 3, roles: ['security-officer'], timeout: '24h', reminderInterval: '1h' },
      evidence: { timeout: '24h', acceptedVerifiers: ['idv-webhook', 'helpdesk-attestation'] },
      coolingOff: {
        base: '4h',
        privilegedBase: '4h',
        extensions: { 'new-network': '2h', 'new-device': '2h', 'recent-factor-change': '4h' },
        maximum: '12h',
        notifyBeforeCompletion: '1h',
      },
      temporaryAccessPass: { lifetime: '1h', singleUse: true, enrolmentTimeout: '2h' },
      restrictedPeriod: '7d',
      revokeOldFactors: 'all',
      // Break-glass subjects are privileged; a SIM swap must not be enough to stall their recovery.
      cancellation: { allowSmsOrEmail: false, stepUpMaxAge: '10m' },
      onCallPage: true,
      postIncidentReview: true,
    },
  },
};

export const DEFAULT_RECOVERY_POLICY: RecoveryPolicy = validatePolicy(DEFAULT_RECOVERY_POLICY_DOCUMENT);
