import { inspect } from 'node:util';
import * as contracts from '@tessera/contracts';
import { type Actor } from '@tessera/contracts';
import { toAuditEntry } from './audit-entry';
import { sealAuditEntry } from './audit-record';
import { AUDIT_CATALOGUE, DATA_ALLOW_LIST } from './catalogue';
import { createDataKey } from './personal-data';
import { envelope, POLICY_VERSION, STAFF, uuid } from '../test-support/audit-fixtures';

const context = { source: 'tessera.recovery.v1', recordedAt: '2025-03-01T08:00:01.500Z' };
const user: Actor = { kind: 'user', id: 'user-42' };
const AT = '2025-03-01T08:00:00.000Z';

function recoveryRequested(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    recoveryId: 'r-1',
    userId: 'user-42',
    kind: 'assisted',
    requestedBy: { kind: 'helpdesk', id: STAFF.helpdesk.id, ticketReference: 'HD-1234' },
    requestedAt: AT,
    riskSignals: ['new-device'],
    privileged: false,
    policyVersion: POLICY_VERSION,
    requiredApprovals: 2,
    evidenceDueBy: '2025-03-02T08:00:00.000Z',
    lostFactorIds: [uuid(1, 1)],
    onCallPageRequired: false,
    postIncidentReviewRequired: false,
    forcedByIncidentId: null,
    drillId: null,
    ...overrides,
  };
}

describe('mapping events to audit records', () => {
  it('records who, what, on whom, when, why (ticket), outcome and correlation for a recovery request', () => {
    const event = envelope('RecoveryRequested', recoveryRequested(), STAFF.helpdesk, { n: 1, at: Date.parse(AT), correlationId: 'corr-abc' });
    expect(toAuditEntry(event, context)).toEqual({
      eventId: event.eventId,
      source: 'tessera.recovery.v1',
      eventType: 'RecoveryRequested',
      eventVersion: 1,
      category: 'recovery',
      outcome: 'pending',
      actor: STAFF.helpdesk,
      subjectUserId: 'user-42',
      occurredAt: AT,
      recordedAt: '2025-03-01T08:00:01.500Z',
      correlationId: 'corr-abc',
      causationId: null,
      why: { reason: null, reasonCode: null, ticket: 'HD-1234' },
      details: {
        recoveryId: 'r-1',
        kind: 'assisted',
        riskSignals: ['new-device'],
        privileged: false,
        policyVersion: POLICY_VERSION,
        requiredApprovals: 2,
        evidenceDueBy: '2025-03-02T08:00:00.000Z',
        lostFactorIds: [uuid(1, 1)],
        onCallPageRequired: false,
        postIncidentReviewRequired: false,
        forcedByIncidentId: null,
        drillId: null,
      },
      personal: {},
      dataSubjectId: 'user-42',
    });
  });

  it('keeps a free-text reason for sealing and a machine reason code in clear', () => {
    const approved = toAuditEntry(
      envelope(
        'RecoveryApproved',
        { recoveryId: 'r-1', userId: 'user-42', approverId: STAFF.officerA.id, reason: 'called back on the number on file', approvedAt: AT, approvalsSoFar: 1, requiredApprovals: 2, quorumReached: false, policyVersion: POLICY_VERSION },
        STAFF.officerA,
      ),
      context,
    );
    expect(approved.why).toEqual({ reason: 'called back on the number on file', reasonCode: null, ticket: null });
    expect(approved.details).toMatchObject({ approverId: STAFF.officerA.id, quorumReached: false });
    const lost = toAuditEntry(envelope('DeviceReportedLost', { userId: 'user-42', deviceId: uuid(1, 2), reason: 'stolen', reportedAt: AT }, user), { ...context, source: 'tessera.devices.v1' });
    expect(lost.why).toEqual({ reason: null, reasonCode: 'stolen', ticket: null });
    // A one-word free-text reason still counts as text: it is sealed, never copied as a code.
    const frozen = toAuditEntry(envelope('CredentialsFrozen', { userId: 'user-42', incidentId: 'i-1', reason: 'fraud' }, STAFF.officerA), { ...context, source: 'tessera.auth.v1' });
    expect(frozen.why).toEqual({ reason: 'fraud', reasonCode: null, ticket: null });
  });

  it('reads allow-listed fields out of nested objects by path and nothing else from them', () => {
    const evidence = toAuditEntry(
      envelope(
        'RecoveryEvidenceRecorded',
        { recoveryId: 'r-1', userId: 'user-42', verifier: { kind: 'helpdesk-attestation', reference: 'att-9', attestedBy: STAFF.helpdesk.id }, outcome: 'failed', recordedAt: AT, approvalDueBy: null, policyVersion: POLICY_VERSION },
        STAFF.helpdesk,
      ),
      context,
    );
    expect(evidence.details).toMatchObject({ 'verifier.kind': 'helpdesk-attestation', 'verifier.reference': 'att-9', 'verifier.attestedBy': STAFF.helpdesk.id, outcome: 'failed' });
    expect(evidence.outcome).toBe('failure');
    const cancelled = toAuditEntry(
      envelope(
        'RecoveryCancelled',
        { recoveryId: 'r-1', userId: 'user-42', via: 'wasnt-me-link', cancelledBy: 'user-42', cancelledAt: AT, stageAtCancel: 'cooling-off', incidentSuspected: true, incidentId: 'i-1', toRevoke: { passId: null, factorIds: [] }, policyVersion: POLICY_VERSION },
        user,
      ),
      context,
    );
    // `cancelledBy` is the subject's own id: not copied in clear.
    expect(cancelled.details).not.toHaveProperty('cancelledBy');
    expect(cancelled.details).toMatchObject({ via: 'wasnt-me-link', 'toRevoke.passId': null, 'toRevoke.factorIds': [] });
  });

  it('S29: copies only allow-listed data fields; secrets, nested objects and unknown fields are dropped', () => {
    const event = envelope(
      'WebAuthnCredentialRegistered',
      {
        userId: 'user-42',
        credentialId: uuid(1, 1),
        name: 'Work key',
        aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8',
        deviceBound: true,
        signCount: 0,
        clientAddress: '203.0.113.7',
        secret: 'JBSWY3DPEHPK3PXP',
        code: '123456',
        otpauthUri: 'otpauth://totp/x?secret=JBSWY3DPEHPK3PXP',
        credentials: [{ credentialId: 'x', publicKey: 'pk' }],
        kind: 'x'.repeat(201),
      },
      user,
      { contract: false },
    );
    const entry = toAuditEntry(event, { ...context, source: 'tessera.auth.v1' });
    expect(entry.details).toEqual({ credentialId: uuid(1, 1), aaguid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8', deviceBound: true });
    expect(entry.personal).toEqual({ name: 'Work key', clientAddress: '203.0.113.7' });
    const stored = JSON.stringify(sealAuditEntry(entry, createDataKey()));
    for (const leaked of ['JBSWY3DPEHPK3PXP', '123456', 'otpauth', 'publicKey', 'Work key', '203.0.113.7', 'user-42']) expect(stored).not.toContain(leaked);
  });

  it('records an unknown tessera event type as category other, with no data fields, reason or ticket', () => {
    const entry = toAuditEntry(envelope('SomethingNewHappened', { userId: 'user-42', recoveryId: 'r-1', reason: 'x', ticket: 'T-1' }, user), context);
    expect(entry).toMatchObject({ category: 'other', outcome: 'info', details: {}, personal: {}, why: { reason: null, reasonCode: null, ticket: null }, subjectUserId: 'user-42' });
  });

  it('does not keep the stream id, which may embed a user id', () => {
    const entry = toAuditEntry(envelope('DeviceUsed', { userId: 'user-42', deviceId: uuid(1, 2), credentialId: uuid(1, 1), usedAt: AT, whileReportedLost: false }, user), context);
    expect(JSON.stringify(entry)).not.toContain('stream-');
  });

  it('refuses events from outside the tessera topics and a recordedAt that is not UTC ISO 8601', () => {
    const event = envelope('SomethingNewHappened', { userId: 'user-42' }, user);
    expect(() => toAuditEntry(event, { ...context, source: 'payments.v1' })).toThrow(expect.objectContaining({ code: 'invalid_source' }));
    expect(() => toAuditEntry(event, { ...context, recordedAt: 'yesterday' })).toThrow(expect.objectContaining({ code: 'invalid_recorded_at' }));
  });

  it('keeps a ticket reference only when it looks like one', () => {
    const odd = toAuditEntry(envelope('RecoveryRequested', recoveryRequested({ requestedBy: { kind: 'helpdesk', id: 'h', ticketReference: 'line\nbreak' } }), STAFF.helpdesk), context);
    expect(odd.why.ticket).toBeNull();
  });

  it('truncates a very long reason and repairs a lone surrogate instead of failing the record', () => {
    const unfrozen = (reason: string) =>
      toAuditEntry(envelope('AccountUnfrozen', { incidentId: 'i-1', userId: 'u', decidedBy: STAFF.officerA.id, reason, unfrozenAt: AT }, STAFF.officerA, { contract: false }), context);
    const long = unfrozen(`${'x'.repeat(2000)}\ud800`);
    expect(long.why.reason).toHaveLength(1000);
    expect(long.why.reason?.endsWith('…')).toBe(true);
    expect(unfrozen('bad \ud800 char').why.reason).toBe('bad \ufffd char');
  });

  it('seals personal data under the acting person when no user is the subject, and keeps none for the system', () => {
    const admin: Actor = { kind: 'admin', id: 'staff-admin-1' };
    const byAdmin = toAuditEntry(envelope('PolicyTuned', { clientAddress: '198.51.100.9' }, admin), context);
    expect(byAdmin).toMatchObject({ subjectUserId: null, dataSubjectId: 'staff-admin-1' });
    const drill = toAuditEntry(envelope('RecoveryDrillSucceeded', { reason: 'x', clientAddress: '10.0.0.1' }, STAFF.system, { contract: false }), context);
    expect(drill).toMatchObject({ dataSubjectId: null, personal: {}, why: { reason: null } });
    expect(sealAuditEntry(drill, null).personal).toBeNull();
  });

  it('seals the subject id, the subject-as-actor id and the reason; staff ids stay in clear', () => {
    const key = createDataKey();
    const own = sealAuditEntry(
      toAuditEntry(envelope('DeviceRenamed', { userId: 'user-42', deviceId: uuid(1, 2), name: 'New', previousName: 'Old' }, user), { ...context, source: 'tessera.devices.v1' }),
      key,
    );
    expect(own).toMatchObject({ actor: { kind: 'user', id: null }, actorIsSubject: true, subjectRef: key.keyId });
    expect(own.personal?.fields).toEqual(['actorId', 'name', 'previousName', 'subjectUserId']);
    const staff = sealAuditEntry(toAuditEntry(envelope('CredentialsFrozen', { userId: 'user-42', incidentId: 'i-1', reason: 'r' }, STAFF.officerA), context), key);
    expect(staff).toMatchObject({ actor: STAFF.officerA, actorIsSubject: false });
    expect(staff.personal?.fields).toEqual(['reason', 'subjectUserId']);
  });

  it('refuses to seal an entry with personal data without its data key', () => {
    const entry = toAuditEntry(envelope('SomethingNewHappened', { userId: 'user-42' }, user), context);
    expect(() => sealAuditEntry(entry, null)).toThrow(expect.objectContaining({ code: 'data_key_required' }));
  });

  it('S29/S30: no allow-list names a field that could hold a secret, and a data key prints no key material', () => {
    const secretish = /(secret|seed|passphrase|password|token|otp$|^otp|code|tap|privatekey|^key$)/i;
    for (const list of Object.values(DATA_ALLOW_LIST)) for (const name of [...list.details, ...list.personal]) expect(name).not.toMatch(secretish);
    const key = createDataKey();
    expect(JSON.stringify(key)).not.toMatch(/[A-Za-z0-9+/_-]{40,}/);
    expect(inspect(key, { depth: 5 })).not.toMatch(/[0-9a-f]{64}|[A-Za-z0-9+/_-]{43}/);
  });

  it('every event type the contracts declare is described in the audit catalogue', () => {
    const declared = ['AUTH_EVENT_TYPES', 'DEVICE_EVENT_TYPES', 'RECOVERY_EVENT_TYPES'].flatMap((name) => {
      const list = (contracts as Record<string, unknown>)[name];
      if (!Array.isArray(list)) throw new Error(`@tessera/contracts does not export ${name}`);
      return list as string[];
    });
    expect(declared.length).toBeGreaterThan(40);
    expect(declared.filter((type) => !Object.hasOwn(AUDIT_CATALOGUE, type))).toEqual([]);
  });
});
