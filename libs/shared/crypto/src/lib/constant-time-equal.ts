import { timingSafeEqual } from 'node:crypto';

/**
 * Compares a supplied secret with the expected one in time that does not depend on where their
 * contents differ (S6), so a remote caller cannot learn a code or token byte by byte.
 *
 * `timingSafeEqual` throws when lengths differ. Rather than return early, a length mismatch still
 * runs a full comparison of `supplied` against itself: the running time is always a function of
 * `supplied`'s length only. Pass the untrusted value first, so the one length the timing reveals is
 * one the caller already knows. Strings are compared as their UTF-8 bytes.
 */
export function constantTimeEqual(supplied: Uint8Array | string, expected: Uint8Array | string): boolean {
  const left = typeof supplied === 'string' ? Buffer.from(supplied, 'utf8') : supplied;
  const right = typeof expected === 'string' ? Buffer.from(expected, 'utf8') : expected;
  const sameLength = left.byteLength === right.byteLength;
  const contentEqual = timingSafeEqual(left, sameLength ? right : left);
  return sameLength && contentEqual;
}
