import { type ChannelKind } from './notification-channel';

/**
 * Why a send failed. Callers branch on `code` and `retryable`, never on the message.
 *
 * - `delivery_failed`: the receiver or the path to it failed (connection refused, 5xx, 4xx on DATA).
 * - `recipient_rejected`: the address is malformed or the receiver refused it for good.
 * - `misconfigured`: this message or this adapter's configuration can never be delivered as it is
 *   (unknown template, invalid variables, wrong credentials, a redirecting URL). Fix, do not retry.
 * - `timeout`: no answer in time. The receiver may still have acted on the message, which is why
 *   every message carries an idempotency key.
 */
export type NotificationErrorCode = 'delivery_failed' | 'recipient_rejected' | 'misconfigured' | 'timeout';

export interface NotificationErrorDetails {
  readonly channel?: ChannelKind;
  /** The HTTP status or SMTP reply code the receiver answered with, when there was one. */
  readonly status?: number;
  /** How long the receiver asked us to wait (HTTP `Retry-After`), when it said. */
  readonly retryAfterMs?: number;
}

/**
 * The one error every adapter and the fan-out throw or report.
 *
 * A Temporal activity maps it directly: `retryable === false` becomes a non-retryable failure, and
 * `retryAfterMs` a next-retry delay. Messages and fields are safe to log and safe to put in workflow
 * history (S30, S32): they never quote the message body, the recipient address, a receiver's response
 * text (a gateway may echo the text it refused) or the underlying library error, only our own words,
 * codes and the numeric status.
 */
export class NotificationError extends Error {
  readonly channel: ChannelKind | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: NotificationErrorCode,
    message: string,
    readonly retryable: boolean,
    details: NotificationErrorDetails = {},
  ) {
    super(message);
    this.name = 'NotificationError';
    this.channel = details.channel;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** A plain object for a log line or an activity result: the same fields, nothing else. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      channel: this.channel,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
    };
  }
}
