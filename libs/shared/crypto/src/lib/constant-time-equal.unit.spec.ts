import crypto from 'node:crypto';
import { constantTimeEqual } from './constant-time-equal';

describe('constantTimeEqual', () => {
  afterEach(() => jest.restoreAllMocks());

  it('S6: is true for equal secrets, as bytes or as strings', () => {
    expect(constantTimeEqual(Buffer.from('123456'), Buffer.from('123456'))).toBe(true);
    expect(constantTimeEqual('123456', '123456')).toBe(true);
    expect(constantTimeEqual('123456', Buffer.from('123456'))).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('S6: is false when the contents differ, wherever the difference is', () => {
    expect(constantTimeEqual('023456', '123456')).toBe(false);
    expect(constantTimeEqual('123450', '123456')).toBe(false);
    expect(constantTimeEqual(Buffer.from([0, 0, 1]), Buffer.from([0, 0, 0]))).toBe(false);
  });

  it('S6: is false, without throwing, when the lengths differ', () => {
    expect(constantTimeEqual('12345', '123456')).toBe(false);
    expect(constantTimeEqual('1234567', '123456')).toBe(false);
    expect(constantTimeEqual('', '1')).toBe(false);
    expect(constantTimeEqual('1', '')).toBe(false);
  });

  it('S6: compares strings as UTF-8 bytes, so equal-looking strings of different bytes differ', () => {
    expect(constantTimeEqual('é', 'e\u0301')).toBe(false);
    expect(constantTimeEqual('é', Buffer.from([0xc3, 0xa9]))).toBe(true);
  });

  it('S6: runs a full timingSafeEqual even on a length mismatch (no early exit), over the supplied length', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    const supplied = Buffer.from('guess-guess');
    expect(constantTimeEqual(supplied, Buffer.from('expected'))).toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    const [left, right] = spy.mock.calls[0] as [Uint8Array, Uint8Array];
    expect(left.byteLength).toBe(supplied.byteLength);
    expect(right.byteLength).toBe(supplied.byteLength);
  });
});
