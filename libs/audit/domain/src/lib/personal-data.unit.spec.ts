import { randomBytes } from 'node:crypto';
import { createDataKey, dataKeyFromBytes, type DataKeyState, ERASED, isErased, openPersonal, personalValue, sealPersonal } from './personal-data';

const EVENT = '0195a000-0000-7000-8000-000000000001';
const fields = { subjectUserId: 'user-42', clientAddress: '203.0.113.7', reason: 'lost phone' };

function active(key = createDataKey()): { key: ReturnType<typeof createDataKey>; state: DataKeyState } {
  return { key, state: { status: 'active', keyId: key.keyId, key: key.key } };
}

describe('crypto-shredding of personal fields (R8, ERASURE.md)', () => {
  it('seals with AES-256-GCM and opens with the same key', () => {
    const { key, state } = active();
    const sealed = sealPersonal(fields, key, EVENT);
    expect(sealed).toMatchObject({ v: 1, alg: 'A256GCM', keyId: key.keyId, fields: ['clientAddress', 'reason', 'subjectUserId'] });
    expect(Buffer.from(sealed.nonce, 'base64url')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64url')).toHaveLength(16);
    expect(JSON.stringify(sealed)).not.toMatch(/user-42|203\.0\.113\.7|lost phone/);
    expect(openPersonal(sealed, state, EVENT)).toEqual({ status: 'available', keyId: key.keyId, fields });
  });

  it('uses a fresh nonce each time: the same fields never produce the same ciphertext', () => {
    const { key } = active();
    expect(sealPersonal(fields, key, EVENT).ciphertext).not.toBe(sealPersonal(fields, key, EVENT).ciphertext);
  });

  it('R8: once the key is destroyed the fields read as erased, by name, and nothing else', () => {
    const { key } = active();
    const sealed = sealPersonal(fields, key, EVENT);
    const view = openPersonal(sealed, { status: 'destroyed', keyId: key.keyId, destroyedAt: '2025-06-01T00:00:00.000Z' }, EVENT);
    expect(view).toEqual({ status: 'erased', keyId: key.keyId, destroyedAt: '2025-06-01T00:00:00.000Z', fieldNames: ['clientAddress', 'reason', 'subjectUserId'] });
    expect(personalValue(view, 'reason')).toBe(ERASED);
    expect(isErased(personalValue(view, 'clientAddress'))).toBe(true);
    expect(personalValue(view, 'deviceName')).toBeNull();
  });

  it('a sealed block moved to another event does not open (associated data binds the event id)', () => {
    const { key, state } = active();
    const sealed = sealPersonal(fields, key, EVENT);
    expect(openPersonal(sealed, state, '0195a000-0000-7000-8000-000000000002')).toMatchObject({ status: 'unreadable', reason: 'authentication_failed' });
  });

  it('a sealed block whose field list was edited does not open', () => {
    const { key, state } = active();
    const sealed = sealPersonal(fields, key, EVENT);
    expect(openPersonal({ ...sealed, fields: ['clientAddress', 'reason'] }, state, EVENT)).toMatchObject({ status: 'unreadable', reason: 'authentication_failed' });
  });

  it('another key, an unknown key id, a truncated tag or a flipped ciphertext bit is unreadable, never an exception', () => {
    const { key, state } = active();
    const sealed = sealPersonal(fields, key, EVENT);
    const other = createDataKey();
    expect(openPersonal(sealed, { status: 'active', keyId: key.keyId, key: other.key }, EVENT)).toMatchObject({ status: 'unreadable', reason: 'authentication_failed' });
    expect(openPersonal(sealed, undefined, EVENT)).toMatchObject({ status: 'unreadable', reason: 'key_unknown' });
    expect(openPersonal({ ...sealed, tag: Buffer.from(sealed.tag, 'base64url').subarray(0, 4).toString('base64url') }, state, EVENT)).toMatchObject({
      status: 'unreadable',
      reason: 'malformed',
    });
    const bytes = Buffer.from(sealed.ciphertext, 'base64url');
    bytes[0] ^= 1;
    expect(openPersonal({ ...sealed, ciphertext: bytes.toString('base64url') }, state, EVENT)).toMatchObject({ status: 'unreadable', reason: 'authentication_failed' });
  });

  it('no personal block reads as none', () => {
    expect(openPersonal(null, undefined, EVENT)).toEqual({ status: 'none' });
  });

  it('randomness is injected: a fixed source gives reproducible key ids and nonces', () => {
    let counter = 0;
    const fixed = (size: number) => Buffer.alloc(size, ++counter);
    const key = createDataKey(fixed);
    expect(key.keyId).toBe(`dk_${Buffer.alloc(16, 1).toString('base64url')}`);
    expect(sealPersonal(fields, key, EVENT, () => Buffer.alloc(12, 9)).nonce).toBe(Buffer.alloc(12, 9).toString('base64url'));
  });

  it('refuses a key that is not 32 bytes and an id that could be key material', () => {
    expect(() => dataKeyFromBytes('dk_1', randomBytes(16))).toThrow(expect.objectContaining({ code: 'invalid_key' }));
    expect(() => dataKeyFromBytes(randomBytes(32).toString('base64'), randomBytes(32))).toThrow(expect.objectContaining({ code: 'invalid_key_id' }));
  });
});
