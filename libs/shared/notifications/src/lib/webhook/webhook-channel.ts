import { type Clock, systemClock } from '@tessera/util';
import { type DeliveryLogger, sendWithDeliveryLog, silentDeliveryLogger } from '../delivery-log';
import { parseSafeUrl } from '../endpoints';
import { type DeliveryReceipt, type NotificationChannel, type OutboundMessage, prepareMessage } from '../notification-channel';
import { NotificationError } from '../notification-error';
import { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, signWebhookPayload, type WebhookSecret, webhookSecretBytes } from './webhook-signature';

export interface WebhookChannelOptions {
  /** `sms` for an SMS gateway; `webhook` for push notifications and on-call paging. */
  readonly kind: 'sms' | 'webhook';
  /** `https:`, or `http:` on a loopback host for development. No credentials in the URL. */
  readonly url: string;
  /** Shared with the receiver, at least 32 bytes; a string is used as its UTF-8 bytes. */
  readonly secret: WebhookSecret;
  /** Whole request, from connecting to reading the answer. Default 10 s. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: DeliveryLogger;
}

/**
 * The JSON body a receiver gets. `text` is what to show or send (the SMS text for `sms`);
 * `subject` is a one-line summary (webhook only). Receivers verify `tessera-signature` over the raw
 * body with `verifyWebhookSignature` and dedupe on `tessera-idempotency-key` (equal to `id`).
 */
export interface WebhookPayload {
  readonly id: string;
  readonly channel: 'sms' | 'webhook';
  readonly to: string;
  readonly template: string;
  readonly subject?: string;
  readonly text: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_CHARS = 4096;
/** Statuses that say "later" rather than "no" (RFC 9110 §15.5.9 408, RFC 8470 §5.2 425, RFC 6585 §4 429). */
const RETRY_LATER = new Set([408, 425, 429]);
/** Statuses that mean the URL or our credentials are wrong: no retry fixes them. */
const WRONG_ENDPOINT = new Set([401, 403, 404, 405, 410]);

/**
 * A signed HTTP webhook: POST JSON with an HMAC signature (RFC 2104, HMAC-SHA256) over the
 * timestamp and the exact body, and the idempotency key as a header so a receiver recognises an
 * activity's retry.
 *
 * Outcomes: 2xx delivered; 5xx, 408, 425, 429, network failures and timeouts are retryable; other
 * 4xx are not. Redirects are not followed: a signed request forwarded to wherever a `Location`
 * points is how a message with a code ends up somewhere unintended, so a redirect is `misconfigured`.
 */
export function createWebhookChannel(options: WebhookChannelOptions): NotificationChannel {
  const kind = options.kind;
  if (kind !== 'sms' && kind !== 'webhook') throw new TypeError('a webhook channel is of kind sms or webhook');
  const url = parseSafeUrl(options.url);
  if (!url) throw new TypeError('the webhook URL must be https (or http on a loopback host) and carry no credentials');
  const secret = webhookSecretBytes(options.secret);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('the webhook timeout must be a positive number of milliseconds');
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentDeliveryLogger;
  const target = url.href;

  async function deliver(message: OutboundMessage): Promise<DeliveryReceipt> {
    const { recipient, rendered } = prepareMessage(message, kind);
    const payload: WebhookPayload = {
      id: message.idempotencyKey,
      channel: kind,
      to: recipient,
      template: message.templateId,
      ...(rendered.channel === 'webhook' ? { subject: rendered.subject } : {}),
      text: rendered.text,
    };
    const body = JSON.stringify(payload);
    const timestamp = Math.floor(clock.now().getTime() / 1000);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      let response: Response;
      try {
        response = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhookPayload(secret, body, timestamp),
            [IDEMPOTENCY_KEY_HEADER]: message.idempotencyKey,
          },
          body,
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch {
        // The cause (a socket error) is not kept: it adds nothing a retry policy needs.
        if (controller.signal.aborted) throw new NotificationError('timeout', `the ${kind} webhook did not answer within ${timeoutMs} ms`, true, { channel: kind });
        throw new NotificationError('delivery_failed', `the ${kind} webhook could not be reached`, true, { channel: kind });
      }
      if (response.status >= 200 && response.status < 300) {
        const providerReference = await readProviderReference(response, controller.signal);
        return {
          channel: kind,
          templateId: message.templateId,
          idempotencyKey: message.idempotencyKey,
          providerReference,
          acceptedAt: clock.now().toISOString(),
        };
      }
      // The body of a refusal is never read: a gateway may echo the text it refused, code included.
      await response.body?.cancel().catch(() => undefined);
      throw classifyStatus(kind, response.status, response.headers.get('retry-after'), clock.now());
    } catch (error) {
      if (error instanceof NotificationError) throw error;
      if (controller.signal.aborted) throw new NotificationError('timeout', `the ${kind} webhook did not answer within ${timeoutMs} ms`, true, { channel: kind });
      throw new NotificationError('delivery_failed', `the ${kind} webhook failed`, true, { channel: kind });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    kind,
    send: (message) => sendWithDeliveryLog(logger, kind, message, () => deliver(message)),
  };
}

/** Maps a non-2xx answer to an error; exported for unit tests of the mapping. */
export function classifyStatus(channel: 'sms' | 'webhook', status: number, retryAfter: string | null, now: Date): NotificationError {
  const details = { channel, status, ...retryAfterDetail(retryAfter, now) };
  if (status >= 300 && status < 400) {
    return new NotificationError('misconfigured', `the ${channel} webhook redirects (${status}); configure its final URL`, false, { channel, status });
  }
  if (status >= 500 || RETRY_LATER.has(status)) {
    return new NotificationError('delivery_failed', `the ${channel} webhook answered ${status}`, true, details);
  }
  if (WRONG_ENDPOINT.has(status)) {
    return new NotificationError('misconfigured', `the ${channel} webhook answered ${status}: check its URL and shared secret`, false, { channel, status });
  }
  if (status >= 400) return new NotificationError('delivery_failed', `the ${channel} webhook refused the message (${status})`, false, { channel, status });
  return new NotificationError('delivery_failed', `the ${channel} webhook answered ${status}`, true, { channel, status });
}

/** RFC 9110 §10.2.3: `Retry-After` is delay-seconds or an HTTP-date. */
function retryAfterDetail(value: string | null, now: Date): { retryAfterMs?: number } {
  if (value === null) return {};
  const trimmed = value.trim();
  if (/^[0-9]{1,9}$/.test(trimmed)) return { retryAfterMs: Number(trimmed) * 1000 };
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return {};
  return { retryAfterMs: Math.max(0, at - now.getTime()) };
}

/**
 * A receiver may answer `{ "id": "<its message id>" }`; anything else (or nothing) gives null.
 * Bounded, and never fails a delivery the receiver already accepted.
 */
async function readProviderReference(response: Response, signal: AbortSignal): Promise<string | null> {
  try {
    if (!(response.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      await response.body?.cancel();
      return null;
    }
    const text = await response.text();
    if (signal.aborted || text.length > MAX_RESPONSE_CHARS) return null;
    const parsed: unknown = JSON.parse(text);
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
    return typeof id === 'string' && /^[\x21-\x7e]{1,128}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}
