export {
  CHANNEL_KINDS,
  type ChannelKind,
  type DeliveryReceipt,
  type NotificationChannel,
  type OutboundMessage,
} from './lib/notification-channel';
export { NotificationError, type NotificationErrorCode, type NotificationErrorDetails } from './lib/notification-error';
export { type DeliveryLogger } from './lib/delivery-log';

export { createSmtpChannel, type SmtpChannel, type SmtpChannelOptions, type SmtpSecurity } from './lib/smtp/smtp-channel';
export { createWebhookChannel, type WebhookChannelOptions, type WebhookPayload } from './lib/webhook/webhook-channel';
export {
  DEFAULT_TOLERANCE_SECONDS,
  IDEMPOTENCY_KEY_HEADER,
  SIGNATURE_HEADER,
  signWebhookPayload,
  verifyWebhookSignature,
  WEBHOOK_SECRET_MIN_BYTES,
  type WebhookSecret,
} from './lib/webhook/webhook-signature';

export { TEMPLATE_IDS, type TemplateId, type TemplateVariables } from './lib/templates/templates';
export { type RenderedMessage, renderTemplate, templateCarriesSecret } from './lib/templates/render';
export { escapeHtml } from './lib/templates/html';

export {
  createSignedLink,
  type CreateSignedLink,
  generateLinkNonce,
  LINK_KEY_MIN_BYTES,
  type LinkKeyRing,
  type SignedLink,
  type SignedLinkClaims,
  SignedLinkError,
  type SignedLinkErrorCode,
  verifySignedLink,
  WASNT_ME_LINK_PURPOSE,
} from './lib/links/signed-link';

export {
  type ChannelAddress,
  type ChannelResult,
  deriveIdempotencyKey,
  type FanOutMessage,
  type NotificationChannels,
  notifyAllChannels,
} from './lib/fan-out/notify-all-channels';
