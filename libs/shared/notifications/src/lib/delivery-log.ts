import { type ChannelKind, type DeliveryReceipt, type OutboundMessage } from './notification-channel';
import { NotificationError } from './notification-error';

/**
 * The narrow logging port the adapters write one line per send to. A pino `Logger` (the platform's
 * JSON logger) satisfies it as is.
 *
 * S30: a line holds only the fields below, never the body, the subject, the variables or the
 * recipient address. `idempotencyKey` ties the line to the workflow activity that sent it.
 */
export interface DeliveryLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentDeliveryLogger: DeliveryLogger = { info: () => undefined, warn: () => undefined };

/**
 * Runs one send and logs its outcome. Anything thrown that is not a `NotificationError` (a bug, an
 * unforeseen library error) is replaced by a retryable `delivery_failed` without its message, which
 * could quote anything.
 *
 * `classification` rather than a `secret` key: the platform logger censors any key named `secret`,
 * which would hide the one fact this field exists to show.
 */
export async function sendWithDeliveryLog(
  logger: DeliveryLogger,
  channel: ChannelKind,
  message: OutboundMessage,
  deliver: () => Promise<DeliveryReceipt>,
): Promise<DeliveryReceipt> {
  const started = performance.now();
  const fields = () => ({
    channel,
    templateId: String(message?.templateId),
    idempotencyKey: String(message?.idempotencyKey),
    classification: message?.secret === false ? 'normal' : 'secret',
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const receipt = await deliver();
    logger.info({ ...fields(), outcome: 'delivered' }, 'notification delivered');
    return receipt;
  } catch (error) {
    const failure = error instanceof NotificationError ? error : new NotificationError('delivery_failed', `the ${channel} send failed unexpectedly`, true, { channel });
    logger.warn(
      {
        ...fields(),
        outcome: 'failed',
        errorCode: failure.code,
        retryable: failure.retryable,
        ...(failure.status === undefined ? {} : { status: failure.status }),
      },
      'notification not delivered',
    );
    throw failure;
  }
}
