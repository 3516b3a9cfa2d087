// Test-only builders for the recovery specs; not part of the public surface (src/index.ts).
import { type RiskSignal } from '@tessera/contracts';
import { DEFAULT_RECOVERY_POLICY } from '../lib/policy/default-policy';
import { type RecoveryPolicy } from '../lib/policy/policy';
import {
  type ApproveRecovery,
  type CancelRecovery,
  type ClosePostIncidentReview,
  type CompleteRecovery,
  type ExpireRecovery,
  type IssueTemporaryAccessPass,
  type RecordEnrolment,
  type RecordEvidence,
  type RecordOnCallPage,
  type RecoveryCommand,
  type RedeemTemporaryAccessPass,
  type RejectRecovery,
  type RequestRecovery,
  type RevokeOldFactors,
} from '../lib/recovery/recovery.commands';
import { decide } from '../lib/recovery/recovery.decide';
import { evolve, initialRecoveryState, type RecoveryEvent, type RecoveryState } from '../lib/recovery/recovery.state';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const T0 = new Date('2026-03-02T09:00:00.000Z');
/** An instant `ms` after T0. */
export const at = (ms: number): Date => new Date(T0.getTime() + ms);
export const isoAt = (ms: number): string => at(ms).toISOString();

export const POLICY: RecoveryPolicy = DEFAULT_RECOVERY_POLICY;
export const RECOVERY_ID = '01950000-0000-7000-8000-00000000a001';
export const SUBJECT = 'user-subject-1';
export const HELPDESK_AGENT = 'helpdesk-agent-1';
export const OFFICER_1 = 'officer-1';
export const OFFICER_2 = 'officer-2';
export const OFFICER_3 = 'officer-3';
export const OFFICER_4 = 'officer-4';
export const PASS_ID = '01950000-0000-7000-8000-00000000b001';
export const NEW_FACTOR = 'factor-new-passkey';
export const OLD_FACTORS = ['factor-old-totp', 'factor-old-key'];

const meta = (now: Date, policy: RecoveryPolicy) => ({ now, policy });

export function requestRecovery(overrides: Partial<RequestRecovery['data']> = {}, now = T0, policy = POLICY): RequestRecovery {
  return {
    type: 'RequestRecovery',
    data: {
      recoveryId: RECOVERY_ID,
      userId: SUBJECT,
      subjectGroups: [],
      syntheticTestAccount: false,
      kind: 'assisted',
      requestedBy: { kind: 'helpdesk', id: HELPDESK_AGENT, ticketReference: 'TICKET-1001' },
      riskSignals: [] as RiskSignal[],
      lostFactorIds: ['factor-old-totp'],
      accountFreeze: null,
      drillId: null,
      ...overrides,
    },
    metadata: meta(now, policy),
  };
}

export function recordEvidence(now: Date, overrides: Partial<RecordEvidence['data']> = {}, policy = POLICY): RecordEvidence {
  return {
    type: 'RecordEvidence',
    data: { recoveryId: RECOVERY_ID, verifier: { kind: 'idv-webhook', reference: 'idv-check-77' }, outcome: 'passed', ...overrides },
    metadata: meta(now, policy),
  };
}

export function approve(approverId: string, now: Date, roles: readonly string[] = ['security-officer'], policy = POLICY): ApproveRecovery {
  return {
    type: 'ApproveRecovery',
    data: { recoveryId: RECOVERY_ID, approverId, approverRoles: roles, reason: 'Identity verified on a video call' },
    metadata: meta(now, policy),
  };
}

export function reject(officerId: string, now: Date, roles: readonly string[] = ['security-officer'], policy = POLICY): RejectRecovery {
  return {
    type: 'RejectRecovery',
    data: { recoveryId: RECOVERY_ID, officerId, officerRoles: roles, reason: 'Caller could not answer the ticket details' },
    metadata: meta(now, policy),
  };
}

export function recordOnCallPage(now: Date, policy = POLICY): RecordOnCallPage {
  return { type: 'RecordOnCallPage', data: { recoveryId: RECOVERY_ID, pageReference: 'PAGE-42' }, metadata: meta(now, policy) };
}

export function cancelByStepUp(now: Date, stepUp: Partial<Extract<CancelRecovery['data'], { via: 'step-up' }>['stepUp']> = {}, policy = POLICY): CancelRecovery {
  return {
    type: 'CancelRecovery',
    data: { recoveryId: RECOVERY_ID, via: 'step-up', stepUp: { userId: SUBJECT, factorId: 'factor-old-key', method: 'webauthn', verifiedAt: now, ...stepUp } },
    metadata: meta(now, policy),
  };
}

export function cancelByLink(now: Date, link: Partial<Extract<CancelRecovery['data'], { via: 'wasnt-me-link' }>['link']> = {}, policy = POLICY): CancelRecovery {
  return {
    type: 'CancelRecovery',
    data: { recoveryId: RECOVERY_ID, via: 'wasnt-me-link', link: { recoveryId: RECOVERY_ID, userId: SUBJECT, expiresAt: new Date(now.getTime() + DAY), ...link } },
    metadata: meta(now, policy),
  };
}

export function cancelByFreeze(now: Date, incidentId = 'incident-9', policy = POLICY): CancelRecovery {
  return { type: 'CancelRecovery', data: { recoveryId: RECOVERY_ID, via: 'account-frozen', incidentId }, metadata: meta(now, policy) };
}

export function issuePass(now: Date, passId = PASS_ID, policy = POLICY): IssueTemporaryAccessPass {
  return { type: 'IssueTemporaryAccessPass', data: { recoveryId: RECOVERY_ID, passId }, metadata: meta(now, policy) };
}

export function redeem(now: Date, passId = PASS_ID, policy = POLICY): RedeemTemporaryAccessPass {
  return { type: 'RedeemTemporaryAccessPass', data: { recoveryId: RECOVERY_ID, passId }, metadata: meta(now, policy) };
}

export function enrol(now: Date, overrides: Partial<RecordEnrolment['data']> = {}, policy = POLICY): RecordEnrolment {
  return {
    type: 'RecordEnrolment',
    data: { recoveryId: RECOVERY_ID, passId: PASS_ID, factorId: NEW_FACTOR, factorKind: 'webauthn', ...overrides },
    metadata: meta(now, policy),
  };
}

export function revokeOld(now: Date, currentFactorIds: readonly string[] = [...OLD_FACTORS, NEW_FACTOR], policy = POLICY): RevokeOldFactors {
  return { type: 'RevokeOldFactors', data: { recoveryId: RECOVERY_ID, currentFactorIds }, metadata: meta(now, policy) };
}

export function complete(now: Date, policy = POLICY): CompleteRecovery {
  return { type: 'CompleteRecovery', data: { recoveryId: RECOVERY_ID }, metadata: meta(now, policy) };
}

export function expire(now: Date, policy = POLICY): ExpireRecovery {
  return { type: 'ExpireRecovery', data: { recoveryId: RECOVERY_ID }, metadata: meta(now, policy) };
}

export function closeReview(reviewerId: string, now: Date, roles: readonly string[] = ['security-officer'], policy = POLICY): ClosePostIncidentReview {
  return {
    type: 'ClosePostIncidentReview',
    data: { recoveryId: RECOVERY_ID, reviewerId, reviewerRoles: roles, findingsReference: 'PIR-2026-007' },
    metadata: meta(now, policy),
  };
}

/** Runs commands through the decider from the initial state and returns every event they produced. */
export function history(commands: readonly RecoveryCommand[]): RecoveryEvent[] {
  const events: RecoveryEvent[] = [];
  let state: RecoveryState = initialRecoveryState();
  for (const command of commands) {
    const produced = decide(command, state);
    events.push(...produced);
    state = produced.reduce(evolve, state);
  }
  return events;
}

export function stateOf(events: readonly RecoveryEvent[]): RecoveryState {
  return events.reduce(evolve, initialRecoveryState());
}

/**
 * The assisted happy path with the default policy, as commands, step by step. Timeline (from T0):
 * request; evidence +1h; approvals +2h, +3h (quorum; cooling-off 24h ends +27h); pass +27h (expires
 * +28h, enrolment due +29h); redeemed +27h10m; enrolled +27h20m; old factors revoked +27h30m
 * (restricted until +7d27h30m); completed then.
 */
export const COOLING_OFF_ENDS = 27 * HOUR;
export const PASS_ISSUED_AT = COOLING_OFF_ENDS;
export const RESTRICTED_FROM = COOLING_OFF_ENDS + 30 * MINUTE;
export const RESTRICTED_UNTIL = RESTRICTED_FROM + 7 * DAY;

export const ASSISTED_PATH = {
  requested: [requestRecovery()],
  awaitingApproval: [requestRecovery(), recordEvidence(at(HOUR))],
  oneApproval: [requestRecovery(), recordEvidence(at(HOUR)), approve(OFFICER_1, at(2 * HOUR))],
  coolingOff: [requestRecovery(), recordEvidence(at(HOUR)), approve(OFFICER_1, at(2 * HOUR)), approve(OFFICER_2, at(3 * HOUR))],
  get passIssued() {
    return [...this.coolingOff, issuePass(at(PASS_ISSUED_AT))];
  },
  get passRedeemed() {
    return [...this.passIssued, redeem(at(PASS_ISSUED_AT + 10 * MINUTE))];
  },
  get enrolled() {
    return [...this.passRedeemed, enrol(at(PASS_ISSUED_AT + 20 * MINUTE))];
  },
  get restricted() {
    return [...this.enrolled, revokeOld(at(RESTRICTED_FROM))];
  },
  get completed() {
    return [...this.restricted, complete(at(RESTRICTED_UNTIL))];
  },
} as const;
