import { envelopeSchema } from '../envelope';
import {
  EVIDENCE_VERIFIER_KINDS,
  isRecoveryEventType,
  parseRecoveryEventData,
  RECOVERY_EVENT_SCHEMAS,
  RECOVERY_EVENT_TYPES,
  temporaryAccessPassIssuedDataSchema,
} from './events';

const issued = {
  recoveryId: '01950000-0000-7000-8000-00000000a001',
  userId: 'user-subject-1',
  passId: '01950000-0000-7000-8000-00000000b001',
  issuedAt: '2026-03-03T12:00:00.000Z',
  expiresAt: '2026-03-03T13:00:00.000Z',
  singleUse: true,
  usableFor: 'factor-enrolment',
  enrolmentDueBy: '2026-03-03T14:00:00.000Z',
  policyVersion: 'default-1',
};

describe('recovery topic contracts', () => {
  it('declares every event the recovery domain publishes', () => {
    expect([...RECOVERY_EVENT_TYPES].sort()).toEqual(
      [
        'RecoveryRequested',
        'RecoveryEvidenceRecorded',
        'RecoveryApproved',
        'RecoveryRejected',
        'RecoveryCoolingOffStarted',
        'RecoveryOnCallPaged',
        'RecoveryCancelled',
        'TemporaryAccessPassIssued',
        'TemporaryAccessPassRedeemed',
        'RecoveryFactorEnrolled',
        'RecoveryOldFactorsRevoked',
        'RecoveryCompleted',
        'RecoveryExpired',
        'PostIncidentReviewClosed',
        'IncidentOpened',
        'AccountFrozen',
        'IncidentDevicesRevoked',
        'IncidentOnCallPaged',
        'AccountUnfrozen',
        'AssistedRecoveryForced',
        'RecoveryDrillSucceeded',
        'RecoveryDrillFailed',
      ].sort(),
    );
  });

  it.each(RECOVERY_EVENT_TYPES)('%s: a valid envelope type naming its subject and its recovery or incident', (type) => {
    expect(envelopeSchema.shape.type.safeParse(type).success).toBe(true);
    const keys = Object.keys(RECOVERY_EVENT_SCHEMAS[type].shape);
    expect(keys).toContain('userId');
    expect(keys.includes('recoveryId') || keys.includes('incidentId')).toBe(true);
  });

  it.each([
    'RecoveryRequested',
    'RecoveryEvidenceRecorded',
    'RecoveryApproved',
    'RecoveryRejected',
    'RecoveryCoolingOffStarted',
    'RecoveryCancelled',
    'TemporaryAccessPassIssued',
    'RecoveryOldFactorsRevoked',
    'RecoveryCompleted',
    'RecoveryExpired',
    'RecoveryDrillSucceeded',
    'RecoveryDrillFailed',
  ] as const)('%s records the policy version it was decided under', (type) => {
    expect(Object.keys(RECOVERY_EVENT_SCHEMAS[type].shape)).toContain('policyVersion');
  });

  it('S32: TemporaryAccessPassIssued accepts the pass id and expiry', () => {
    expect(temporaryAccessPassIssuedDataSchema.parse(issued)).toEqual(issued);
  });

  it.each(['secret', 'pass', 'passSecret', 'code'])('S32: TemporaryAccessPassIssued refuses an extra %s field', (field) => {
    expect(temporaryAccessPassIssuedDataSchema.safeParse({ ...issued, [field]: 'TAP-7QX2-PLMK-99ZA' }).success).toBe(false);
  });

  it('S32: a pass id must be a UUID, so a pass secret does not fit in it', () => {
    expect(temporaryAccessPassIssuedDataSchema.safeParse({ ...issued, passId: 'TAP-7QX2-PLMK-99ZA' }).success).toBe(false);
  });

  it('S25: a pass is single use by contract', () => {
    expect(temporaryAccessPassIssuedDataSchema.safeParse({ ...issued, singleUse: false }).success).toBe(false);
  });

  it('S26: no evidence kind is knowledge-based, and the contract refuses one', () => {
    expect(EVIDENCE_VERIFIER_KINDS.filter((kind) => /question|knowledge|kba|secret/i.test(kind))).toEqual([]);
    const evidence = {
      recoveryId: 'r-1',
      userId: 'user-subject-1',
      verifier: { kind: 'security-question', reference: 'first-pet' },
      outcome: 'passed',
      recordedAt: '2026-03-03T12:00:00.000Z',
      approvalDueBy: '2026-03-06T12:00:00.000Z',
      policyVersion: 'default-1',
    };
    expect(RECOVERY_EVENT_SCHEMAS.RecoveryEvidenceRecorded.safeParse(evidence).success).toBe(false);
    expect(RECOVERY_EVENT_SCHEMAS.RecoveryEvidenceRecorded.safeParse({ ...evidence, verifier: { kind: 'idv-webhook', reference: 'idv-1' } }).success).toBe(true);
  });

  it('parses data by type and reports every problem', () => {
    expect(isRecoveryEventType('RecoveryApproved')).toBe(true);
    expect(isRecoveryEventType('toString')).toBe(false);
    expect(() => parseRecoveryEventData('AccountFrozen', { incidentId: 'i-1' })).toThrow(/userId[\s\S]*frozenAt/);
  });
});
