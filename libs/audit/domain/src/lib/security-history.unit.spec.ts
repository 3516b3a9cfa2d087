import { type Actor } from '@tessera/contracts';
import { revealRecord } from './reveal';
import { SECURITY_HISTORY_FIELDS, securityHistory, toSecurityHistoryItem } from './security-history';
import { ChainBuilder, InMemoryDataKeys, POLICY_VERSION, STAFF, buildChain, envelope, signingFixture, uuid } from '../test-support/audit-fixtures';

const user: Actor = { kind: 'user', id: 'user-42' };
const AT = '2025-03-01T08:00:00.000Z';
const AUTH = 'tessera.auth.v1';
const DEVICES = 'tessera.devices.v1';
const RECOVERY = 'tessera.recovery.v1';

function builder(): ChainBuilder {
  return new ChainBuilder(new InMemoryDataKeys(), signingFixture(), 100);
}

const requested = {
  recoveryId: 'r-1',
  userId: 'user-42',
  kind: 'assisted',
  requestedBy: { kind: 'helpdesk', id: STAFF.helpdesk.id, ticketReference: 'HD-9' },
  requestedAt: AT,
  riskSignals: [],
  privileged: false,
  policyVersion: POLICY_VERSION,
  requiredApprovals: 2,
  evidenceDueBy: AT,
  lostFactorIds: [],
  onCallPageRequired: false,
  postIncidentReviewRequired: false,
  forcedByIncidentId: null,
  drillId: null,
};

describe('user-facing security history', () => {
  it('says what happened in words: "New security key added", "Recovery requested by helpdesk"', () => {
    const chain = builder();
    chain.append(envelope('WebAuthnCredentialRegistered', { userId: 'user-42', credentialId: uuid(1, 1), name: 'YubiKey 5', aaguid: '00000000-0000-0000-0000-000000000000', deviceBound: true, signCount: 0 }, user), AUTH);
    chain.append(envelope('RecoveryRequested', requested, STAFF.helpdesk), RECOVERY);
    chain.append(
      envelope(
        'RecoveryApproved',
        { recoveryId: 'r-1', userId: 'user-42', approverId: STAFF.officerA.id, reason: 'caller verified', approvedAt: AT, approvalsSoFar: 1, requiredApprovals: 2, quorumReached: false, policyVersion: POLICY_VERSION },
        STAFF.officerA,
      ),
      RECOVERY,
    );
    chain.append(envelope('CredentialRevoked', { userId: 'user-42', credentialId: uuid(2, 1), kind: 'totp', reason: 'user_removed', referenceId: null }, user), AUTH);
    chain.append(envelope('DeviceReportedLost', { userId: 'user-42', deviceId: uuid(3, 2), reason: 'stolen', reportedAt: AT }, user), DEVICES);
    chain.append(envelope('VerificationSucceeded', { userId: 'user-42', credentialId: uuid(1, 1), kind: 'webauthn', aal: 2, amr: ['hwk'], timeStep: null, signCount: 3 }, user), AUTH);
    chain.append(envelope('DeviceUsed', { userId: 'user-42', deviceId: uuid(3, 2), credentialId: uuid(1, 1), usedAt: AT, whileReportedLost: false }, user), DEVICES);
    chain.append(envelope('DeviceUsed', { userId: 'user-42', deviceId: uuid(3, 2), credentialId: uuid(1, 1), usedAt: AT, whileReportedLost: true }, user), DEVICES);

    const history = securityHistory(chain.revealed());
    expect(history.map((item) => [item.title, item.by])).toEqual([
      ['A device you reported lost was used', 'you'],
      ['Device reported stolen', 'you'],
      ['Authenticator app removed', 'you'],
      ['Recovery approved by the security team', 'security-team'],
      ['Recovery requested by helpdesk', 'helpdesk'],
      ['New security key added', 'you'],
    ]);
    expect(history[5].deviceName).toBe('YubiKey 5');
  });

  it('S30: the history never carries a field outside its allow-list, nor staff ids, reasons, tickets or pseudonyms', () => {
    const chain = buildChain(600, 100);
    const items = chain.revealed().flatMap((r) => toSecurityHistoryItem(r) ?? []);
    expect(items.length).toBeGreaterThan(200);
    for (const item of items) for (const key of Object.keys(item)) expect(SECURITY_HISTORY_FIELDS).toContain(key);
    const shown = JSON.stringify(items);
    for (const hidden of ['staff-', 'video call', 'HD-', 'SIM swap', 'no_match', 'user-', 'dk_', 'corr-', 'drill']) expect(shown).not.toContain(hidden);
  });

  it('S30: a field smuggled into a record does not reach the user', () => {
    const chain = builder();
    const record = chain.append(envelope('DeviceRevoked', { userId: 'user-42', deviceId: uuid(1, 2), reason: 'user_removed', referenceId: null, credentialIds: [], revokedAt: AT }, user), DEVICES);
    const poisoned = { ...record, details: { ...record.details, internalNote: 'do not show' }, ticket: 'INC-1' };
    const item = toSecurityHistoryItem(revealRecord(poisoned, chain.keys.lookup));
    expect(Object.keys(item ?? {}).sort()).toEqual(['by', 'category', 'eventId', 'occurredAt', 'outcome', 'title']);
    expect(JSON.stringify(item)).not.toMatch(/do not show|INC-1|user_removed/);
  });

  it('hides events with no subject and event types that are not shown to users', () => {
    const chain = builder();
    chain.append(envelope('PolicyTuned', { policyId: 'p' }, { kind: 'admin', id: 'staff-admin-1' }), RECOVERY);
    chain.append(envelope('VerificationSucceeded', { userId: 'user-42', credentialId: uuid(1, 1), kind: 'totp', aal: 2, amr: ['otp'], timeStep: 5, signCount: null }, user), AUTH);
    chain.append(envelope('SomethingNew', { userId: 'user-42' }, user), AUTH);
    expect(securityHistory(chain.revealed())).toEqual([]);
  });

  it('after erasure an item shows no device name but still says what happened', () => {
    const chain = builder();
    chain.append(envelope('DeviceRenamed', { userId: 'user-42', deviceId: uuid(1, 2), name: 'Phone', previousName: 'Old phone' }, user), DEVICES);
    chain.keys.destroy('user-42', '2025-06-01T00:00:00.000Z');
    const [item] = securityHistory(chain.revealed());
    expect(item).toMatchObject({ title: 'Device renamed', by: 'you' });
    expect(item).not.toHaveProperty('deviceName');
  });
});
