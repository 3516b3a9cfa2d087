import { createHash } from 'node:crypto';
import { CHANNEL_KINDS, type ChannelKind, type DeliveryReceipt, type NotificationChannel, type OutboundMessage } from '../notification-channel';
import { NotificationError } from '../notification-error';

/** One of a user's registered addresses: an email address, a phone number, a push or webhook id. */
export interface ChannelAddress {
  readonly kind: ChannelKind;
  readonly address: string;
}

/** The adapters available, by kind. */
export type NotificationChannels = Readonly<Partial<Record<ChannelKind, NotificationChannel>>>;

/** The message without its recipient: the fan-out supplies one per address. */
export type FanOutMessage = OutboundMessage extends infer M ? (M extends OutboundMessage ? Omit<M, 'recipient'> : never) : never;

/**
 * The outcome for `recipientAddresses[index]`. No address in it (S32: personal data in workflow
 * payloads is kept minimal); the caller has the list and the index.
 */
export type ChannelResult =
  | { readonly index: number; readonly kind: ChannelKind; readonly outcome: 'delivered'; readonly receipt: DeliveryReceipt }
  | { readonly index: number; readonly kind: ChannelKind; readonly outcome: 'failed'; readonly error: NotificationError };

/**
 * S22: every binding, removal and recovery notifies the user on every registered channel. Sends
 * run in parallel and independently: one channel failing, throwing or timing out never stops or
 * delays the report of another. The promise always resolves, with one result per address in the
 * order given; it never rejects.
 *
 * Each address gets its own idempotency key, `<key>~<16 hex>`, derived from the message's key, the
 * kind and the address. It is stable across retries, yet differs between two addresses that reach
 * the same receiver (two phone numbers behind one SMS gateway), which would otherwise take the
 * second for a retry of the first and drop it.
 *
 * An address whose kind has no adapter is reported as `misconfigured`, not skipped: a user who
 * registered a channel must not silently stop hearing from it. The same kind and address listed
 * twice is sent once and reported at both positions.
 *
 * Retrying: re-send only the failed, retryable results (or run one activity per address); the
 * derived keys let receivers recognise what they already have.
 */
export async function notifyAllChannels(
  channels: NotificationChannels,
  recipientAddresses: readonly ChannelAddress[],
  message: FanOutMessage,
): Promise<readonly ChannelResult[]> {
  const sends = new Map<string, Promise<ChannelOutcome>>();
  const pending = recipientAddresses.map((entry, index) => {
    const kind = entry?.kind;
    const address = entry?.address;
    const dedupeKey = `${String(kind)}\n${typeof address === 'string' ? normaliseAddress(kind, address) : ''}`;
    let send = sends.get(dedupeKey);
    if (!send) {
      send = sendOne(channels, kind, address, message);
      sends.set(dedupeKey, send);
    }
    return send.then((outcome): ChannelResult => ({ index, kind, ...outcome }));
  });
  return Promise.all(pending);
}

type ChannelOutcome = { readonly outcome: 'delivered'; readonly receipt: DeliveryReceipt } | { readonly outcome: 'failed'; readonly error: NotificationError };

async function sendOne(channels: NotificationChannels, kind: ChannelKind, address: string, message: FanOutMessage): Promise<ChannelOutcome> {
  try {
    if (!CHANNEL_KINDS.includes(kind)) {
      throw new NotificationError('misconfigured', 'the address names no known channel kind', false);
    }
    const channel = channels[kind];
    if (!channel || channel.kind !== kind) {
      throw new NotificationError('misconfigured', `no ${kind} channel is configured`, false, { channel: kind });
    }
    if (typeof address !== 'string') {
      throw new NotificationError('recipient_rejected', `the recipient is not a valid ${kind} address`, false, { channel: kind });
    }
    const outbound = { ...message, recipient: address, idempotencyKey: deriveIdempotencyKey(message.idempotencyKey, kind, address) } as OutboundMessage;
    return { outcome: 'delivered', receipt: await channel.send(outbound) };
  } catch (error) {
    const failure =
      error instanceof NotificationError
        ? error
        : new NotificationError('delivery_failed', `the ${String(kind)} channel failed unexpectedly`, true, CHANNEL_KINDS.includes(kind) ? { channel: kind } : {});
    return { outcome: 'failed', error: failure };
  }
}

/**
 * `<key>~<first 16 hex of SHA-256(kind, address)>`. The hash keeps the address out of the key,
 * which travels in headers, logs and receipts. An over-long base key is left for the adapter to
 * refuse, so the caller sees one consistent error.
 */
export function deriveIdempotencyKey(key: string, kind: ChannelKind, address: string): string {
  if (typeof key !== 'string') return key;
  const digest = createHash('sha256').update(`${kind}\n${normaliseAddress(kind, address)}`, 'utf8').digest('hex').slice(0, 16);
  return `${key}~${digest}`;
}

/** Email addresses are matched without case (as mail systems deliver them); phone numbers and webhook ids exactly. */
function normaliseAddress(kind: ChannelKind, address: string): string {
  return kind === 'email' ? address.toLowerCase() : address;
}
