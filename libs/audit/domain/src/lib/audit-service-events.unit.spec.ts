import { toAuditEntry } from './audit-entry';
import { sealAuditEntry } from './audit-record';
import { AUDIT_SERVICE_EVENTS, AUDIT_SERVICE_SOURCE, describeEvent } from './catalogue';
import { createDataKey } from './personal-data';
import { envelope } from '../test-support/audit-fixtures';

describe("the audit service's records about its own log", () => {
  it('every event the audit service writes is described, as an administrative action', () => {
    for (const type of AUDIT_SERVICE_EVENTS) expect(describeEvent(type)).toMatchObject({ category: 'admin', outcome: 'success' });
  });

  it('an erasure keeps the erased pseudonym, the administrator and the ticket in clear, seals the reason under the administrator, and names no user', () => {
    const event = envelope('AuditSubjectErased', { erasedSubjectRef: 'dk_abc', ticket: 'DPO-17', reason: 'GDPR Art. 17 request from user-42' }, { kind: 'admin', id: 'admin-1' });
    const entry = toAuditEntry(event, { source: AUDIT_SERVICE_SOURCE, recordedAt: '2026-01-01T00:00:00.000Z' });
    expect(entry).toMatchObject({ category: 'admin', subjectUserId: null, dataSubjectId: 'admin-1', details: { erasedSubjectRef: 'dk_abc' }, why: { ticket: 'DPO-17' } });
    const key = createDataKey();
    const sealed = sealAuditEntry(entry, key);
    expect(sealed).toMatchObject({ actor: { kind: 'admin', id: 'admin-1' }, subjectRef: null, ticket: 'DPO-17', personal: { keyId: key.keyId, fields: ['reason'] } });
    expect(JSON.stringify(sealed)).not.toContain('user-42');
  });

  it('a retention run by the system keeps positions and settings only, and no personal field at all', () => {
    const event = envelope('AuditRetentionApplied', { deleteThroughPosition: 1000, anchorPosition: 1000, retentionDays: 400 }, { kind: 'system', id: 'audit-service' });
    const entry = toAuditEntry(event, { source: AUDIT_SERVICE_SOURCE, recordedAt: '2026-01-01T00:00:00.000Z' });
    expect(entry).toMatchObject({ dataSubjectId: null, details: { deleteThroughPosition: 1000, anchorPosition: 1000, retentionDays: 400 }, personal: {} });
    expect(sealAuditEntry(entry, null).personal).toBeNull();
  });
});
