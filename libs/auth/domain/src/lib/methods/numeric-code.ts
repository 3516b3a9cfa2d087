import { drawBytes, type RandomSource } from '../crypto/random';

/**
 * Numeric one-time codes (TOTP input, email/SMS codes). People type them with spaces or a dash in the
 * middle ("123 456"); those are dropped. Anything else that is not an ASCII digit makes the input
 * malformed — in particular non-ASCII digits, whose UTF-8 length would differ from the code's.
 */
export function normalizeNumericCode(input: string): string {
  return input.replace(/[\s-]/g, '');
}

export function isNumericCode(code: string, digits: number): boolean {
  return code.length === digits && /^[0-9]+$/.test(code);
}

/**
 * A uniformly random decimal code from the CSPRNG. Each digit is drawn by rejection sampling from one
 * byte (values ≥ 250 are redrawn), so no digit is likelier than another; a plain `byte % 10` would
 * favour 0–5, because 256 is not a multiple of 10.
 */
export function generateNumericCode(random: RandomSource, digits: number): string {
  let code = '';
  while (code.length < digits) {
    for (const byte of drawBytes(random, digits - code.length)) {
      if (byte < 250 && code.length < digits) code += String(byte % 10);
    }
  }
  return code;
}
