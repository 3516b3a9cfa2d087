import { type AuditRecord, type SignedCheckpoint } from '@tessera/audit-domain';
import { ApiError } from '@tessera/platform';
import { mergeCheckpoints } from '../verify/chain-verification.service';
import { csvField, csvLine, toCsv } from '../exports/csv';
import { toRecordView } from '../records/record.view';
import { decodeCursor, encodeCursor } from './cursor';
import { storableEnvelope } from './storable';

describe('cursors (keyset pagination on position)', () => {
  it('round-trip a position for the order they were made for', () => {
    expect(decodeCursor(encodeCursor('asc', 42), 'asc')).toBe(42);
    expect(decodeCursor(encodeCursor('desc', 9_007_199_254), 'desc')).toBe(9_007_199_254);
  });

  it.each([
    ['', 'asc'],
    ['not base64url!', 'asc'],
    [Buffer.from('a:0').toString('base64url'), 'asc'],
    [Buffer.from('a:-5').toString('base64url'), 'asc'],
    [Buffer.from('a:1e9').toString('base64url'), 'asc'],
    [Buffer.from('x:5').toString('base64url'), 'asc'],
    [Buffer.from('a:99999999999999999').toString('base64url'), 'asc'],
    [encodeCursor('asc', 5), 'desc'],
    ['A'.repeat(41), 'asc'],
  ] as const)('R7: refuses %j for %s with 400 invalid_cursor', (cursor, order) => {
    expect(() => decodeCursor(cursor, order)).toThrow(ApiError);
    try {
      decodeCursor(cursor, order);
    } catch (error) {
      expect(error).toMatchObject({ status: 400, code: 'invalid_cursor' });
    }
  });
});

describe('CSV (RFC 4180, OWASP CSV injection)', () => {
  it('quotes every field, doubles inner quotes and keeps commas and line breaks inside the field', () => {
    expect(csvLine(['a,b', 'say "hi"', 'two\nlines', null, 7, true])).toBe('"a,b","say ""hi""","two\nlines","","7","true"\r\n');
  });

  it('defuses values a spreadsheet would run as a formula', () => {
    for (const value of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvField(value)).toBe(`"'${value}"`);
    expect(csvField('a=1')).toBe('"a=1"');
  });

  it('writes an erased value as [erased] and other objects as JSON; rows of differing shapes share one header', () => {
    expect(csvField({ erased: true })).toBe('"[erased]"');
    expect(csvField({ a: 1 })).toBe('"{""a"":1}"');
    expect(toCsv([{ id: 1, actor: { kind: 'admin', id: 'a' } }, { id: 2, extra: 'x' }])).toBe('"id","actor.kind","actor.id","extra"\r\n"1","admin","a",""\r\n"2","","","x"\r\n');
  });
});

describe('storable envelopes', () => {
  const base = { eventId: '0195a000-0000-7000-8000-000000000001', type: 'X', version: 1, streamId: 's', actor: { kind: 'user' as const, id: 'u' }, correlationId: 'c', causationId: null };

  it('normalise occurredAt to millisecond precision so a TIMESTAMPTZ reads back as the string that was hashed', () => {
    expect(storableEnvelope({ ...base, occurredAt: '2025-03-01T08:00:00Z', data: {} }).occurredAt).toBe('2025-03-01T08:00:00.000Z');
    expect(storableEnvelope({ ...base, occurredAt: '2025-03-01T08:00:00.123456789Z', data: {} }).occurredAt).toBe('2025-03-01T08:00:00.123Z');
  });

  it('replace U+0000, which PostgreSQL cannot store, everywhere, and leave a literal backslash-u text alone', () => {
    const stored = storableEnvelope({ ...base, occurredAt: '2025-03-01T08:00:00Z', correlationId: 'c\u0000d', data: { name: 'a\u0000b', list: ['\u0000'], text: 'literal \\u0000' } });
    expect(stored.correlationId).toBe('c\ufffdd');
    expect(stored.data).toEqual({ name: 'a\ufffdb', list: ['\ufffd'], text: 'literal \\u0000' });
  });
});

describe('checkpoints from the database and the sink', () => {
  const checkpoint = (toPosition: number, signature = 'A'.repeat(86)): SignedCheckpoint => ({
    fromPosition: toPosition - 9,
    toPosition,
    headHash: '0'.repeat(64),
    recordCount: 10,
    createdAt: '2025-03-01T08:00:00.000Z',
    keyId: 'k1',
    signature,
  });

  it('keep each distinct checkpoint once and both of two that disagree', () => {
    const merged = mergeCheckpoints([checkpoint(10), checkpoint(20)], [checkpoint(10), checkpoint(20, 'B'.repeat(86)), checkpoint(30)]);
    expect(merged.map((c) => [c.toPosition, c.signature[0]])).toEqual([
      [10, 'A'],
      [20, 'A'],
      [20, 'B'],
      [30, 'A'],
    ]);
  });
});

describe('the auditor view of a record', () => {
  const record: AuditRecord = {
    position: 7,
    previousHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    eventId: '0195a000-0000-7000-8000-000000000007',
    source: 'tessera.recovery.v1',
    eventType: 'RecoveryApproved',
    eventVersion: 1,
    category: 'recovery',
    outcome: 'success',
    actor: { kind: 'security-officer', id: 'officer-1' },
    actorIsSubject: false,
    subjectRef: 'dk_x',
    occurredAt: '2025-03-01T08:00:00.000Z',
    recordedAt: '2025-03-01T08:00:01.000Z',
    correlationId: 'c-7',
    causationId: null,
    ticket: 'HD-1',
    reasonCode: null,
    details: { recoveryId: 'r-1' },
    personal: { v: 1, alg: 'A256GCM', keyId: 'dk_x', fields: ['clientAddress', 'reason', 'subjectUserId'], nonce: 'n', ciphertext: 'c', tag: 't' },
  };

  it('shows the subject, reason and other sealed fields as available or erased, and never the ciphertext', () => {
    const available = toRecordView({ record, personal: { status: 'available', keyId: 'dk_x', fields: { subjectUserId: 'u-1', reason: 'checked ID', clientAddress: '192.0.2.7' } } });
    expect(available).toMatchObject({ subject: { ref: 'dk_x', userId: 'u-1' }, reason: 'checked ID', personal: { status: 'available', fields: { clientAddress: '192.0.2.7' } }, actor: { id: 'officer-1' } });
    const erased = toRecordView({ record, personal: { status: 'erased', keyId: 'dk_x', destroyedAt: '2026-01-01T00:00:00.000Z', fieldNames: record.personal!.fields } });
    expect(erased).toMatchObject({ subject: { userId: { erased: true } }, reason: { erased: true }, personal: { status: 'erased', fields: { clientAddress: { erased: true } } } });
    expect(JSON.stringify(erased)).not.toContain('ciphertext');
  });
});
