import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '@tessera/crypto';

export const SIGNATURE_HEADER = 'tessera-signature';
export const IDEMPOTENCY_KEY_HEADER = 'tessera-idempotency-key';

/**
 * RFC 2104 §3: an HMAC key shorter than the hash output (32 bytes for SHA-256) is "strongly
 * discouraged"; a shared webhook secret must be at least that long. Generate one with
 * `openssl rand -base64 32`.
 */
export const WEBHOOK_SECRET_MIN_BYTES = 32;

/** Five minutes either way, the window common webhook-signing schemes use for clock skew and transit. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A header longer than this is not ours: refuse it before doing any work on it. */
const MAX_HEADER_LENGTH = 1024;

export type WebhookSecret = string | Uint8Array;

/** A string secret is used as its UTF-8 bytes, as configured; bytes are used as they are. */
export function webhookSecretBytes(secret: WebhookSecret): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.byteLength < WEBHOOK_SECRET_MIN_BYTES) {
    throw new TypeError(`a webhook secret must be at least ${WEBHOOK_SECRET_MIN_BYTES} bytes`);
  }
  return bytes;
}

/**
 * HMAC-SHA256 (RFC 2104) over `"<t>.<body>"`, hex. The timestamp is inside the MAC so a captured
 * request cannot be replayed later with a fresh `t`; the body is signed as the exact bytes sent, so
 * a receiver must verify the raw body, before any JSON parsing re-serialises it.
 */
function mac(key: Buffer, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', key).update(`${timestamp}.`, 'utf8').update(body).digest('hex');
}

/** The `tessera-signature` header value for `body` sent at `timestamp` (Unix seconds). */
export function signWebhookPayload(secret: WebhookSecret, body: string | Uint8Array, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError('the timestamp must be whole Unix seconds');
  return `t=${timestamp},v1=${mac(webhookSecretBytes(secret), timestamp, body)}`;
}

/**
 * For receivers (and tests): true only if `header` carries a `t` within `toleranceSeconds` of `now`
 * and a `v1` HMAC of `"<t>.<body>"` under `secret`. Several `v1` entries are allowed (a sender
 * rotating its secret may sign with both); unknown entries are ignored so a later scheme can be
 * added beside `v1`.
 *
 * The MAC is compared in constant time (S6) against every `v1` entry, with no early exit. A boolean,
 * not a result object, so that `if (verifyWebhookSignature(…))` cannot be accidentally truthy.
 *
 * Within the tolerance window a captured request can be replayed: receivers dedupe on the
 * `tessera-idempotency-key` header for at least that long.
 */
export function verifyWebhookSignature(
  secret: WebhookSecret,
  header: string | null | undefined,
  body: string | Uint8Array,
  now: Date,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  const key = webhookSecretBytes(secret);
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) throw new TypeError('the tolerance must be a non-negative number of seconds');
  const parsed = parseSignatureHeader(header);
  if (!parsed) return false;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) return false;
  const expected = mac(key, parsed.timestamp, body);
  let matched = false;
  for (const candidate of parsed.signatures) {
    // The comparison sits left of `||`, so it runs for every candidate whatever the earlier ones gave.
    matched = constantTimeEqual(candidate, expected) || matched;
  }
  return matched;
}

interface ParsedSignature {
  readonly timestamp: number;
  readonly signatures: readonly string[];
}

function parseSignatureHeader(header: string | null | undefined): ParsedSignature | null {
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_HEADER_LENGTH) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator <= 0) return null;
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (name === 't') {
      if (timestamp !== null || !/^[0-9]{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (name === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return null;
      signatures.push(value);
    }
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}
