import { z } from 'zod';
import { NotificationError } from './notification-error';
import { type RenderedMessage, renderTemplate, templateCarriesSecret } from './templates/render';
import { type TemplateId, type TemplateVariables } from './templates/templates';

export type ChannelKind = 'email' | 'sms' | 'webhook';

export const CHANNEL_KINDS: readonly ChannelKind[] = ['email', 'sms', 'webhook'];

/**
 * One message to one recipient, named by template rather than by text: the adapter renders it for
 * its channel, so every caller (auth-service codes, recovery-orchestrator notices) says the same
 * thing the same way.
 */
export type OutboundMessage = {
  readonly [T in TemplateId]: {
    /** An email address, an E.164 phone number, or the receiver's id for a webhook (a device, a rotation). */
    readonly recipient: string;
    readonly templateId: T;
    readonly variables: TemplateVariables<T>;
    /**
     * Stable across retries of the same logical send (e.g. workflow id + activity id), so a receiver
     * can recognise a retried delivery. 1–200 printable ASCII characters, no spaces.
     */
    readonly idempotencyKey: string;
    /**
     * The message carries a secret (a one-time code, a single-use link). Templates that carry one
     * refuse `false`. Adapters never log a body whatever the flag says; for a secret message they
     * also keep every trace of it (receipt, error) free of the receiver's replies.
     */
    readonly secret: boolean;
  };
}[TemplateId];

/**
 * What a successful send returns. Safe to log and to return from a Temporal activity (S32): ids and
 * times only, no body, no recipient address.
 */
export interface DeliveryReceipt {
  readonly channel: ChannelKind;
  readonly templateId: TemplateId;
  readonly idempotencyKey: string;
  /** The receiver's id for the message (SMTP Message-ID, a gateway's message id), when known. */
  readonly providerReference: string | null;
  /** ISO 8601, when the receiver accepted the message. A string: it crosses into workflow history. */
  readonly acceptedAt: string;
}

/** The port: one adapter per channel kind, used alike by auth-service and recovery-orchestrator. */
export interface NotificationChannel {
  readonly kind: ChannelKind;
  /** Resolves when the receiver accepted the message; rejects with a `NotificationError`. */
  send(message: OutboundMessage): Promise<DeliveryReceipt>;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** E.164 (ITU-T E.164 §6): `+`, a country code that does not start with 0, at most 15 digits. */
const E164 = /^\+[1-9][0-9]{6,14}$/;

/** Webhook recipients are the receiver's own ids: printable ASCII, no spaces, bounded. */
const WEBHOOK_RECIPIENT = /^[\x21-\x7e]{1,256}$/;

const emailAddress = z.email().max(254);

export interface PreparedMessage {
  readonly recipient: string;
  readonly rendered: RenderedMessage;
}

/**
 * The checks every adapter makes before anything leaves the process: a well-formed idempotency
 * key, a recipient address valid for the channel, an honest secret classification, and variables
 * that satisfy the template. Caller mistakes are `misconfigured`; a malformed address is
 * `recipient_rejected`. Neither is retryable.
 */
export function prepareMessage(message: OutboundMessage, channel: ChannelKind): PreparedMessage {
  if (typeof message !== 'object' || message === null) {
    throw new NotificationError('misconfigured', 'a message must be an object', false, { channel });
  }
  if (typeof message.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(message.idempotencyKey)) {
    throw new NotificationError('misconfigured', 'the idempotency key must be 1–200 printable ASCII characters without spaces', false, { channel });
  }
  if (typeof message.secret !== 'boolean') {
    throw new NotificationError('misconfigured', 'a message must say whether it carries a secret', false, { channel });
  }
  if (templateCarriesSecret(message.templateId) && !message.secret) {
    throw new NotificationError('misconfigured', `template ${message.templateId} carries a secret: the message must be marked secret`, false, { channel });
  }
  if (!isValidRecipient(message.recipient, channel)) {
    throw new NotificationError('recipient_rejected', `the recipient is not a valid ${channel} address`, false, { channel });
  }
  return { recipient: message.recipient, rendered: renderTemplate(message.templateId, message.variables, channel) };
}

export function isValidRecipient(recipient: unknown, channel: ChannelKind): recipient is string {
  if (typeof recipient !== 'string') return false;
  switch (channel) {
    case 'email':
      return emailAddress.safeParse(recipient).success;
    case 'sms':
      return E164.test(recipient);
    case 'webhook':
      return WEBHOOK_RECIPIENT.test(recipient);
  }
}
