import { encodeFields } from './associated-data';

describe('encodeFields', () => {
  it('S28: prefixes each field with its UTF-8 byte length as 32-bit big-endian', () => {
    expect(encodeFields(['é', '']).toString('hex')).toBe('00000002c3a9' + '00000000');
  });

  it('S28: keeps field boundaries, so shifting characters between fields changes the encoding', () => {
    expect(encodeFields(['ab', 'c']).equals(encodeFields(['a', 'bc']))).toBe(false);
    expect(encodeFields(['a', '']).equals(encodeFields(['', 'a']))).toBe(false);
    expect(encodeFields(['u1', 'c1']).equals(encodeFields(['c1', 'u1']))).toBe(false);
  });
});
