import { createHash } from 'node:crypto';

/**
 * The id of the device registered for a bound credential: a name-based UUID (version 8 with SHA-256,
 * as RFC 9562 §5.8 and its Appendix B.2 example describe), so that registering it again for the same
 * credential — a redelivered event, a consumer rebuilt from the topic — names the same device.
 */
export function autoDeviceId(credentialId: string): string {
  const bytes = createHash('sha256').update(`tessera:device-for-credential:${credentialId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10xx (RFC 9562 §4.1)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
