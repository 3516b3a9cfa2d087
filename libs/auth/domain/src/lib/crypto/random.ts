import { randomBytes } from 'node:crypto';

/**
 * Randomness is injected (STYLE.md principle 4) so tests can pin it. Production passes
 * `nodeRandomSource`, a CSPRNG (RFC 4086; NIST SP 800-63B-4 requires approved random bit generators
 * for every authenticator secret).
 */
export type RandomSource = (byteLength: number) => Uint8Array;

export const nodeRandomSource: RandomSource = (byteLength) => randomBytes(byteLength);

/** Draws bytes and refuses a source that returns fewer than asked, which would silently cut entropy. */
export function drawBytes(random: RandomSource, byteLength: number): Uint8Array {
  const bytes = random(byteLength);
  if (bytes.byteLength !== byteLength) {
    throw new Error(`random source returned ${bytes.byteLength} bytes, ${byteLength} were requested`);
  }
  return Uint8Array.from(bytes);
}
