import { type TotpAlgorithm } from '@tessera/contracts';
import rfc4226 from '../../../test-vectors/rfc4226.json';
import rfc6238 from '../../../test-vectors/rfc6238.json';
import { asciiBytes } from '../../testing/fixtures';
import { generateTotpCode, totpTimeStep, type TotpSeed, verifyTotpCode } from './totp';

const ALGORITHMS: readonly TotpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

describe('S5: RFC 4226 Appendix D vectors', () => {
  it('keeps the source of the vectors', () => {
    expect(rfc4226.source).toMatch(/^RFC 4226 Appendix D/);
    expect(rfc4226.vectors).toHaveLength(10);
    expect(Buffer.from(rfc4226.secret_ascii, 'ascii').toString('hex')).toBe(rfc4226.secret_hex);
  });

  // HOTP(K, C) is TOTP at time C × X: the counter is the time step (RFC 6238 §4.2).
  const seed: TotpSeed = { secret: asciiBytes(rfc4226.secret_ascii), algorithm: 'SHA1', digits: rfc4226.digits, period: 30 };

  it.each(rfc4226.vectors)('S5: counter $counter gives $hotp and verifies at exactly that step', ({ counter, hotp }) => {
    const at = new Date(counter * 30_000);
    expect(generateTotpCode(seed, at)).toBe(hotp);
    expect(verifyTotpCode(seed, hotp, at)).toEqual({ kind: 'totp', outcome: 'match', timeStep: counter });
  });
});

describe('S5: RFC 6238 Appendix B vectors', () => {
  it('keeps the source and uses the reference seeds of 20, 32 and 64 bytes', () => {
    expect(rfc6238.source).toMatch(/^RFC 6238 Appendix B/);
    expect(rfc6238.vectors).toHaveLength(6);
    expect(ALGORITHMS.map((algorithm) => rfc6238.seeds_ascii[algorithm].length)).toEqual([20, 32, 64]);
  });

  it('includes the 20000000000 row, whose counter needs more than 32 bits of time in seconds', () => {
    const row = rfc6238.vectors.find((vector) => vector.unix_time === 20_000_000_000);
    expect(row).toBeDefined();
    expect(row!.unix_time).toBeGreaterThan(2 ** 32);
    expect(totpTimeStep(new Date(row!.unix_time * 1000), 30)).toBe(Number(BigInt(`0x${row!.counter_hex}`)));
  });

  const rows = rfc6238.vectors.flatMap((vector) => ALGORITHMS.map((algorithm) => ({ ...vector, algorithm, expected: vector[algorithm] })));

  it.each(rows)('S5: $algorithm at $unix_time s gives $expected (counter $counter_hex)', ({ unix_time, counter_hex, algorithm, expected }) => {
    const seed: TotpSeed = { secret: asciiBytes(rfc6238.seeds_ascii[algorithm]), algorithm, digits: rfc6238.digits, period: rfc6238.step_seconds };
    const at = new Date(unix_time * 1000);
    const counter = BigInt(`0x${counter_hex}`);
    expect(counter).toBeLessThan(BigInt(Number.MAX_SAFE_INTEGER));
    expect(totpTimeStep(at, seed.period)).toBe(Number(counter));
    expect(generateTotpCode(seed, at)).toBe(expected);
    expect(verifyTotpCode(seed, expected, at)).toEqual({ kind: 'totp', outcome: 'match', timeStep: Number(counter) });
  });
});
