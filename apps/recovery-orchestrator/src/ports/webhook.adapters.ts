import { assertNever, DomainError } from '@tessera/event-sourcing';
import {
  type ChannelKind,
  createWebhookChannel,
  deriveIdempotencyKey,
  type FanOutMessage,
  IDEMPOTENCY_KEY_HEADER,
  type NotificationChannel,
  type NotificationChannels,
  notifyAllChannels,
  SIGNATURE_HEADER,
  signWebhookPayload,
  type TemplateId,
} from '@tessera/notifications';
import type { RecoveryNotice, StaffNotice } from '@tessera/recovery-workflows';
import type { Logger } from 'pino';
import type { ContactDirectory } from './contact-directory';
import { type DevicesPort, type IdentityVerifierPort, NotConfiguredError, type NoticeDeliveryLedger, type PagerPort, type UserNotifierPort } from './ports';

export { ComposedContactDirectory, ConfiguredContactDirectory, type ContactDirectory } from './contact-directory';

/** On-call is paged through the shared signed-webhook channel, with the shared `on-call-page` template. */
export class WebhookPager implements PagerPort {
  private readonly channel: NotificationChannel | null;

  constructor(url: string | undefined, secret: string | undefined) {
    this.channel = url && secret ? createWebhookChannel({ kind: 'webhook', url, secret }) : null;
  }

  async page(input: Parameters<PagerPort['page']>[0]): Promise<{ pageReference: string }> {
    if (!this.channel) throw new NotConfiguredError('the on-call webhook', 'ONCALL_WEBHOOK_URL and ONCALL_WEBHOOK_SECRET');
    const receipt = await this.channel.send({
      recipient: 'on-call',
      templateId: 'on-call-page',
      variables: { reason: input.reason, reference: input.reference, subjectUserId: input.subjectUserId, summary: input.summary.slice(0, 200), raisedAt: input.raisedAt },
      idempotencyKey: input.idempotencyKey,
      secret: false,
    });
    return { pageReference: (receipt.providerReference ?? receipt.idempotencyKey).slice(0, 200) };
  }

  /** Staff reminders (approvers, reviewers) with their own template rather than a page's free text. */
  async remind(input: { readonly notice: StaffNotice; readonly recoveryId: string; readonly userId: string; readonly idempotencyKey: string; readonly raisedAt: Date }): Promise<void> {
    if (!this.channel) throw new NotConfiguredError('the on-call webhook', 'ONCALL_WEBHOOK_URL and ONCALL_WEBHOOK_SECRET');
    await this.channel.send({
      recipient: 'on-call',
      templateId: 'staff-reminder',
      variables: { reminder: input.notice, reference: input.recoveryId, subjectUserId: input.userId, raisedAt: input.raisedAt },
      idempotencyKey: input.idempotencyKey,
      secret: false,
    });
  }
}

/**
 * Asks the identity-verification provider for the outcome of its check `reference`: a POST signed
 * like every Tessera webhook (HMAC-SHA256 over timestamp and body), answered `{"outcome":"passed"|"failed"}`.
 * Only the reference and the outcome cross into the workflow; the provider's evidence stays with it.
 */
export class WebhookIdentityVerifier implements IdentityVerifierPort {
  constructor(
    private readonly url: string | undefined,
    private readonly secret: string | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  async outcome(input: { recoveryId: string; reference: string; idempotencyKey: string }): Promise<'passed' | 'failed'> {
    if (!this.url || !this.secret) throw new DomainError('idv_not_configured', 'No identity-verification provider is configured; record a helpdesk attestation instead', 'invalid');
    const body = JSON.stringify({ recoveryId: input.recoveryId, reference: input.reference });
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(this.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhookPayload(this.secret, body, timestamp), [IDEMPOTENCY_KEY_HEADER]: input.idempotencyKey },
      body,
    });
    if (response.status === 404) throw new DomainError('idv_check_unknown', 'The identity-verification provider knows no check with this reference', 'invalid');
    if (!response.ok) throw new Error(`the identity-verification provider answered ${response.status}`);
    const answer = (await response.json().catch(() => null)) as { outcome?: unknown } | null;
    if (answer?.outcome !== 'passed' && answer?.outcome !== 'failed') throw new Error('the identity-verification provider gave no outcome');
    return answer.outcome;
  }
}

/** device-registry's revoke command (REST; a service token the registry trusts). */
export class HttpDevices implements DevicesPort {
  constructor(
    private readonly baseUrl: string | undefined,
    private readonly token: string | undefined,
  ) {}

  async revokeDevice(input: { userId: string; deviceId: string; incidentId: string; idempotencyKey: string }): Promise<void> {
    if (!this.baseUrl || !this.token) throw new NotConfiguredError('device-registry', 'DEVICE_REGISTRY_URL and DEVICE_REGISTRY_TOKEN');
    const response = await fetch(`${this.baseUrl}/v1/devices/${encodeURIComponent(input.deviceId)}/revoke`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'idempotency-key': input.idempotencyKey.slice(0, 200) },
      body: JSON.stringify({ reason: 'incident', referenceId: input.incidentId }),
    });
    // Already revoked or unknown is done as far as an incident is concerned.
    if (response.ok || response.status === 404 || response.status === 409) return;
    throw new Error(`device-registry answered ${response.status} revoking a device`);
  }
}

/**
 * The template of every notice the workflows send (S22). A mapped type over `RecoveryNotice`: a notice
 * added to the workflows without a template here fails type-checking, and the notifier's unit test
 * renders each one.
 */
export const NOTICE_TEMPLATES = {
  'recovery-requested': 'recovery-requested',
  'recovery-cooling-off-started': 'recovery-cooling-off-started',
  'recovery-completes-soon': 'recovery-reminder',
  'recovery-pass-issued': 'recovery-pass-issued',
  'recovery-factors-revoked': 'recovery-factors-revoked',
  'recovery-completed': 'recovery-completed',
  'recovery-cancelled': 'recovery-cancelled',
  'recovery-rejected': 'recovery-rejected',
  'recovery-expired': 'recovery-expired',
  'account-frozen': 'account-frozen',
  'account-unfrozen': 'account-unfrozen',
} as const satisfies { readonly [N in RecoveryNotice]: TemplateId };

/** What one notice came to. Counts and kinds only: safe to log (S30). */
export interface NoticeOutcome {
  readonly channels: number;
  readonly alreadyDelivered: number;
  readonly delivered: number;
  readonly failed: number;
}

/**
 * S22: sends a notice on every channel the user has, through the shared adapters, for the workflows'
 * activities (`notify`) and for the account-change consumer (`send`). The "this wasn't me" link is
 * minted here, inside the activity, and never returned (S32).
 *
 * Each address's send is recorded once accepted (`NoticeDeliveryLedger`), so a retry — Temporal's, or
 * a redelivered event's — sends only to the addresses that failed. A retryable failure throws, and the
 * caller retries with the same idempotency key; a permanent one (an address of a kind with no adapter
 * configured) is logged and left. A user with no channel at all is logged (a count) and skipped.
 */
export class ChannelNotifier implements UserNotifierPort {
  constructor(
    private readonly channels: NotificationChannels,
    private readonly directory: ContactDirectory,
    private readonly cancelLink: (subjectId: string, userId: string) => Promise<string>,
    private readonly logger: Logger,
    private readonly ledger: NoticeDeliveryLedger | null = null,
  ) {}

  async notify(input: Parameters<UserNotifierPort['notify']>[0]): Promise<void> {
    const notice = input.notice as RecoveryNotice;
    if (!Object.hasOwn(NOTICE_TEMPLATES, notice)) {
      // Unreachable while the types hold; a notice must never vanish silently.
      throw new Error(`no template for the notice ${String(input.notice)}`);
    }
    const link = () => this.cancelLink(input.subjectId, input.userId);
    const base = { idempotencyKey: input.idempotencyKey };
    const at = input.at;
    let message: FanOutMessage;
    const templateId = NOTICE_TEMPLATES[notice];
    switch (templateId) {
      case 'recovery-requested':
        message = { ...base, templateId, variables: { requestedAt: at, cancelUrl: await link() }, secret: true };
        break;
      case 'recovery-cooling-off-started':
      case 'recovery-reminder':
        message = { ...base, templateId, variables: { endsAt: input.endsAt ?? at, cancelUrl: await link() }, secret: true };
        break;
      case 'recovery-pass-issued':
        message = { ...base, templateId, variables: { issuedAt: at, cancelUrl: await link() }, secret: true };
        break;
      case 'recovery-factors-revoked':
        message = { ...base, templateId, variables: { revokedAt: at, cancelUrl: await link() }, secret: true };
        break;
      case 'recovery-completed':
        message = { ...base, templateId, variables: { completedAt: at }, secret: false };
        break;
      case 'recovery-cancelled':
        message = { ...base, templateId, variables: { cancelledAt: at }, secret: false };
        break;
      case 'recovery-rejected':
        message = { ...base, templateId, variables: { rejectedAt: at }, secret: false };
        break;
      case 'recovery-expired':
        message = { ...base, templateId, variables: { expiredAt: at }, secret: false };
        break;
      case 'account-frozen':
        message = { ...base, templateId, variables: { frozenAt: at }, secret: false };
        break;
      case 'account-unfrozen':
        message = { ...base, templateId, variables: { unfrozenAt: at }, secret: false };
        break;
      default:
        return assertNever(templateId);
    }
    await this.send({ userId: input.userId, notice, message });
  }

  /**
   * One notice to every channel of `userId`. Throws when a channel failed in a way worth retrying
   * (after recording what was delivered), so the caller retries with the same key.
   */
  async send(input: { readonly userId: string; readonly notice: string; readonly message: FanOutMessage }): Promise<NoticeOutcome> {
    const { notice, message } = input;
    if (Object.keys(this.channels).length === 0) {
      // Nothing could be sent: no need to look up (personal) addresses. The setting is what to fix.
      this.logger.warn({ notice, idempotencyKey: message.idempotencyKey }, 'no notification channel is configured (SMTP_*, SMS_WEBHOOK_*, PUSH_WEBHOOK_*); notice not sent');
      return { channels: 0, alreadyDelivered: 0, delivered: 0, failed: 0 };
    }
    const addresses = await this.directory.channelsOf(input.userId);
    if (addresses.length === 0) {
      this.logger.info({ notice, idempotencyKey: message.idempotencyKey, channels: 0 }, 'user has no notification channel; notice skipped');
      return { channels: 0, alreadyDelivered: 0, delivered: 0, failed: 0 };
    }
    // The per-address keys the fan-out derives: a hash of the address, never the address itself.
    const keys = addresses.map((entry) => deriveIdempotencyKey(message.idempotencyKey, entry.kind, entry.address));
    const done = this.ledger ? await this.ledger.delivered(keys) : new Set<string>();
    const pending = addresses.filter((_entry, index) => !done.has(keys[index]));
    const pendingKeys = keys.filter((key) => !done.has(key));
    const results = await notifyAllChannels(this.channels, pending, message);
    const deliveredKeys = [...new Set(results.flatMap((result) => (result.outcome === 'delivered' ? [pendingKeys[result.index]] : [])))];
    if (this.ledger && deliveredKeys.length > 0) await this.ledger.record(deliveredKeys, new Date());

    const failures = results.flatMap((result) => (result.outcome === 'failed' ? [result] : []));
    for (const failure of failures) {
      this.logger.warn({ notice, channel: failure.kind, code: failure.error.code, retryable: failure.error.retryable }, 'notification not delivered');
    }
    const outcome: NoticeOutcome = { channels: addresses.length, alreadyDelivered: addresses.length - pending.length, delivered: deliveredKeys.length, failed: failures.length };
    const kinds: ChannelKind[] = [...new Set(addresses.map((entry) => entry.kind))];
    this.logger.info({ notice, idempotencyKey: message.idempotencyKey, kinds, ...outcome }, 'security notice sent');
    const retryable = failures.filter((failure) => failure.error.retryable).length;
    if (retryable > 0) throw new Error(`${retryable} channel(s) failed and will be retried`);
    return outcome;
  }
}
