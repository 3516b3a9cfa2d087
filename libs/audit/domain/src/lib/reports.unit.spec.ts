import { type Actor } from '@tessera/contracts';
import { ERASED } from './personal-data';
import { adminActionsReport, factorChangesReport, failedVerificationSpikes, recoveryReport } from './reports';
import { BASE_TIME_MS, ChainBuilder, InMemoryDataKeys, POLICY_VERSION, STAFF, envelope, iso, signingFixture, uuid } from '../test-support/audit-fixtures';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const RECOVERY = 'tessera.recovery.v1';
const user: Actor = { kind: 'user', id: 'user-42' };

function builder(): ChainBuilder {
  return new ChainBuilder(new InMemoryDataKeys(), signingFixture(), 1_000);
}

/** One assisted recovery for user-42: evidence, two approvals, 24 h cooling-off, a pass, a new factor; plus a cancelled one. */
function recoveryStory(): ChainBuilder {
  const chain = builder();
  const t = (ms: number) => iso(BASE_TIME_MS + ms);
  const add = (type: string, data: Record<string, unknown>, actor: Actor, ms: number, source = RECOVERY) =>
    chain.append(envelope(type, { userId: 'user-42', recoveryId: 'r-1', ...data }, actor, { at: BASE_TIME_MS + ms }), source);
  const approval = (approver: Actor, n: number, ms: number) =>
    add(
      'RecoveryApproved',
      { approverId: approver.id, reason: `approval ${n}: identity checked`, approvedAt: t(ms), approvalsSoFar: n, requiredApprovals: 2, quorumReached: n === 2, policyVersion: POLICY_VERSION },
      approver,
      ms,
    );
  add(
    'RecoveryRequested',
    {
      kind: 'assisted',
      requestedBy: { kind: 'helpdesk', id: STAFF.helpdesk.id, ticketReference: 'HD-1001' },
      requestedAt: t(0),
      riskSignals: [],
      privileged: false,
      policyVersion: POLICY_VERSION,
      requiredApprovals: 2,
      evidenceDueBy: t(HOUR),
      lostFactorIds: [],
      onCallPageRequired: false,
      postIncidentReviewRequired: false,
      forcedByIncidentId: null,
      drillId: null,
    },
    STAFF.helpdesk,
    0,
  );
  add(
    'RecoveryEvidenceRecorded',
    { verifier: { kind: 'helpdesk-attestation', reference: 'att/r-1/1', attestedBy: STAFF.helpdesk.id }, outcome: 'passed', recordedAt: t(10 * MINUTE), approvalDueBy: t(72 * HOUR), policyVersion: POLICY_VERSION },
    STAFF.helpdesk,
    10 * MINUTE,
  );
  approval(STAFF.officerA, 1, 30 * MINUTE);
  approval(STAFF.officerB, 2, 2 * HOUR);
  add(
    'RecoveryCoolingOffStarted',
    { startedAt: t(2 * HOUR), endsAt: t(26 * HOUR), durationMs: 24 * HOUR, extensionsApplied: [], capped: false, notifyAt: null, policyVersion: POLICY_VERSION },
    STAFF.system,
    2 * HOUR + 1000,
  );
  add(
    'TemporaryAccessPassIssued',
    { passId: uuid(1, 9), issuedAt: t(26 * HOUR), expiresAt: t(27 * HOUR), singleUse: true, usableFor: 'factor-enrolment', enrolmentDueBy: t(27 * HOUR), policyVersion: POLICY_VERSION },
    STAFF.system,
    26 * HOUR + 1000,
  );
  add('RecoveryFactorEnrolled', { factorId: 'f-9', factorKind: 'webauthn', passId: uuid(1, 9), enrolledAt: t(26 * HOUR + 5 * MINUTE) }, user, 26 * HOUR + 5 * MINUTE);
  add(
    'RecoveryCompleted',
    { kind: 'assisted', approverIds: [STAFF.officerA.id, STAFF.officerB.id], enrolledFactorIds: ['f-9'], completedAt: t(26 * HOUR + 10 * MINUTE), policyVersion: POLICY_VERSION },
    STAFF.system,
    26 * HOUR + 10 * MINUTE,
  );
  // A second recovery, cancelled by its subject through the "this wasn't me" link.
  chain.append(
    envelope(
      'RecoveryCancelled',
      { recoveryId: 'r-2', userId: 'user-7', via: 'wasnt-me-link', cancelledBy: 'user-7', cancelledAt: t(4 * HOUR), stageAtCancel: 'awaiting-evidence', incidentSuspected: true, incidentId: 'i-1', toRevoke: { passId: null, factorIds: [] }, policyVersion: POLICY_VERSION },
      { kind: 'user', id: 'user-7' },
      { at: BASE_TIME_MS + 4 * HOUR },
    ),
    RECOVERY,
  );
  return chain;
}

describe('recovery report', () => {
  it('lists each recovery with its approvers, evidence, status and durations', () => {
    const [first, second] = recoveryReport(recoveryStory().revealed());
    expect(first).toMatchObject({
      recoveryId: 'r-1',
      status: 'completed',
      breakGlass: false,
      requestedBy: { kind: 'helpdesk', id: STAFF.helpdesk.id },
      ticket: 'HD-1001',
      policyVersion: POLICY_VERSION,
      requiredApprovals: 2,
      approvals: [
        { approver: { kind: 'security-officer', id: STAFF.officerA.id }, at: iso(BASE_TIME_MS + 30 * MINUTE), reason: 'approval 1: identity checked' },
        { approver: { kind: 'security-officer', id: STAFF.officerB.id }, at: iso(BASE_TIME_MS + 2 * HOUR), reason: 'approval 2: identity checked' },
      ],
      evidence: [{ kind: 'helpdesk-attestation', reference: 'att/r-1/1', attestedBy: STAFF.helpdesk.id, passed: true, recordedBy: STAFF.helpdesk }],
      durations: { toFirstApprovalMs: 30 * MINUTE, toQuorumMs: 2 * HOUR, coolingOffMs: 24 * HOUR, totalMs: 26 * HOUR + 10 * MINUTE },
    });
    expect(first.positions).toHaveLength(8);
    expect(second).toMatchObject({ recoveryId: 'r-2', status: 'cancelled', approvals: [], requestedAt: null, durations: { totalMs: null, toQuorumMs: null } });
  });

  it('keeps the row after the subject is erased: approvers stay, their written reasons read as erased', () => {
    const chain = recoveryStory();
    chain.keys.destroy('user-42', '2025-06-01T00:00:00.000Z');
    const [first] = recoveryReport(chain.revealed());
    expect(first.approvals.map((a) => [a.approver.id, a.reason])).toEqual([
      [STAFF.officerA.id, ERASED],
      [STAFF.officerB.id, ERASED],
    ]);
  });
});

describe('administrative actions report', () => {
  it('lists every action by helpdesk, security officers and admins with ticket and reason, and nothing by users or the system', () => {
    const rows = adminActionsReport(recoveryStory().revealed());
    expect(rows.map((r) => [r.eventType, r.actor.id])).toEqual([
      ['RecoveryRequested', STAFF.helpdesk.id],
      ['RecoveryEvidenceRecorded', STAFF.helpdesk.id],
      ['RecoveryApproved', STAFF.officerA.id],
      ['RecoveryApproved', STAFF.officerB.id],
    ]);
    expect(rows[0]).toMatchObject({ ticket: 'HD-1001', reason: null });
    expect(rows[2]).toMatchObject({ reason: 'approval 1: identity checked' });
  });

  it('includes the admin category even when the system acted (recovery drills)', () => {
    const chain = builder();
    chain.append(
      envelope(
        'RecoveryDrillFailed',
        { drillId: 'd-1', recoveryId: 'r-d', userId: 'drill-1', policyVersion: POLICY_VERSION, timerFactor: 60, startedAt: iso(BASE_TIME_MS), finishedAt: iso(BASE_TIME_MS), durationMs: 0, reason: 'recovery-expired', stageReached: 'awaiting-approval' },
        STAFF.system,
      ),
      RECOVERY,
    );
    expect(adminActionsReport(chain.revealed())).toEqual([expect.objectContaining({ eventType: 'RecoveryDrillFailed', reasonCode: 'recovery-expired', outcome: 'failure' })]);
  });
});

describe('factor changes report', () => {
  it('lists factor changes with the subject revealed as actor when they acted themselves', () => {
    const rows = factorChangesReport(recoveryStory().revealed());
    expect(rows).toEqual([expect.objectContaining({ eventType: 'RecoveryFactorEnrolled', factorKind: 'webauthn', factorId: 'f-9', recoveryId: 'r-1', actor: { kind: 'user', id: 'user-42' } })]);
  });
});

describe('failed verification spikes (S8, S9)', () => {
  /** `clientAddress` is not in the v1 VerificationFailed contract; these fixtures show the report once producers send it. */
  function failures(times: readonly number[], userId: string, address: string | null, chain = builder()): ChainBuilder {
    for (const ms of times) {
      const data: Record<string, unknown> = { userId, credentialId: null, kind: 'totp', reason: 'no_match', failedAt: iso(BASE_TIME_MS + ms) };
      if (address !== null) data['clientAddress'] = address;
      chain.append(envelope('VerificationFailed', data, { kind: 'user', id: userId }, { at: BASE_TIME_MS + ms, contract: address === null }));
    }
    return chain;
  }

  it('finds a burst per user and per address, merging overlapping windows', () => {
    const chain = failures([0, 10_000, 20_000, 30_000, 40_000], 'user-1', '203.0.113.5');
    failures([5 * HOUR], 'user-1', '203.0.113.5', chain); // an isolated failure later: no spike
    const spikes = failedVerificationSpikes(chain.revealed(), { windowMs: MINUTE, threshold: 3 });
    expect(spikes).toHaveLength(2);
    expect(spikes.find((s) => s.key.kind === 'subject')).toMatchObject({ from: iso(BASE_TIME_MS), to: iso(BASE_TIME_MS + 40_000), peakCount: 5, failures: 5 });
    expect(spikes.find((s) => s.key.kind === 'address')).toMatchObject({ key: { kind: 'address', clientAddress: '203.0.113.5' }, peakCount: 5 });
  });

  it('sees one address spraying many users even when no single user crosses the threshold', () => {
    const chain = builder();
    for (let i = 0; i < 6; i++) failures([i * 1000], `user-${i}`, '198.51.100.66', chain);
    expect(failedVerificationSpikes(chain.revealed(), { windowMs: MINUTE, threshold: 5 })).toEqual([
      expect.objectContaining({ key: { kind: 'address', clientAddress: '198.51.100.66' }, peakCount: 6 }),
    ]);
  });

  it('counts per user from contract-shaped events that carry no address', () => {
    const chain = failures([0, 1000, 2000], 'user-1', null);
    expect(failedVerificationSpikes(chain.revealed(), { windowMs: MINUTE, threshold: 3 }).map((s) => s.key.kind)).toEqual(['subject']);
  });

  it('counts strictly inside the window: failures a full window apart are separate', () => {
    const chain = failures([0, MINUTE, 2 * MINUTE], 'user-1', '203.0.113.5');
    expect(failedVerificationSpikes(chain.revealed(), { windowMs: MINUTE, threshold: 2 })).toEqual([]);
  });

  it('counts erased records per user only', () => {
    const chain = failures([0, 1000, 2000], 'user-1', '203.0.113.5');
    chain.keys.destroy('user-1', '2025-06-01T00:00:00.000Z');
    expect(failedVerificationSpikes(chain.revealed(), { windowMs: MINUTE, threshold: 3 }).map((s) => s.key.kind)).toEqual(['subject']);
  });

  it('refuses a meaningless window or threshold', () => {
    expect(() => failedVerificationSpikes([], { windowMs: 0, threshold: 3 })).toThrow(RangeError);
    expect(() => failedVerificationSpikes([], { windowMs: MINUTE, threshold: 0 })).toThrow(RangeError);
  });
});
