import { UUID_PATTERN, uuidv7 } from './uuidv7';

describe('uuidv7', () => {
  it('is a well-formed version 7 UUID carrying the given millisecond time', () => {
    const id = uuidv7(0x0123456789ab);
    expect(id).toMatch(UUID_PATTERN);
    expect(id[14]).toBe('7');
    expect(id.replace(/-/g, '').slice(0, 12)).toBe('0123456789ab');
  });

  it('sorts by creation time', () => {
    const ids = [uuidv7(1_000), uuidv7(2_000), uuidv7(3_000)];
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs between two ids of the same millisecond', () => {
    expect(uuidv7(5)).not.toBe(uuidv7(5));
  });

  it('never repeats its random bits across refills of the random pool', () => {
    // 5,000 ids of one millisecond span a dozen refills; 74 random bits make a chance collision negligible.
    const random = Array.from({ length: 5_000 }, () => uuidv7(42).replace(/-/g, '').slice(12));
    expect(new Set(random).size).toBe(random.length);
    expect(new Set(random.map((bits) => bits.slice(0, 4))).size).toBeGreaterThan(1_000);
  });
});
