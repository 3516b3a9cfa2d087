import { DomainError } from '@tessera/event-sourcing';
import {
  type ChannelAddress,
  createWebhookChannel,
  IDEMPOTENCY_KEY_HEADER,
  type NotificationChannel,
  type NotificationChannels,
  notifyAllChannels,
  SIGNATURE_HEADER,
  signWebhookPayload,
} from '@tessera/notifications';
import type { Logger } from 'pino';
import { type DevicesPort, type IdentityVerifierPort, NotConfiguredError, type PagerPort, type UserNotifierPort } from './ports';

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

/** Where a user can be reached. Addresses are personal data: they stay inside the notifier activity. */
export interface ContactDirectory {
  channelsOf(userId: string): Promise<readonly ChannelAddress[]>;
}

/** A directory given as configuration: `{"<userId>": [{"kind":"email","address":"…"}]}`. */
export class ConfiguredContactDirectory implements ContactDirectory {
  private readonly contacts: Readonly<Record<string, readonly ChannelAddress[]>>;

  constructor(json: string | undefined) {
    this.contacts = json ? (JSON.parse(json) as Record<string, ChannelAddress[]>) : {};
  }

  async channelsOf(userId: string): Promise<readonly ChannelAddress[]> {
    return Object.hasOwn(this.contacts, userId) ? this.contacts[userId] : [];
  }
}

/** The recovery notices that have a shared template; the others are recorded in the log only (see the report of issue 5). */
const TEMPLATE_OF: Readonly<Record<string, 'recovery-requested' | 'recovery-cooling-off-started' | 'recovery-reminder' | 'recovery-completed' | 'recovery-cancelled' | 'account-frozen'>> = {
  'recovery-requested': 'recovery-requested',
  'recovery-cooling-off-started': 'recovery-cooling-off-started',
  'recovery-completes-soon': 'recovery-reminder',
  'recovery-completed': 'recovery-completed',
  'recovery-cancelled': 'recovery-cancelled',
  'account-frozen': 'account-frozen',
};

/**
 * S22: sends a notice on every channel the user has, through the shared adapters. The "this wasn't
 * me" link is minted here, inside the activity, and never returned (S32). A channel that fails with a
 * retryable error fails the activity, which Temporal retries with the same idempotency key.
 */
export class ChannelNotifier implements UserNotifierPort {
  constructor(
    private readonly channels: NotificationChannels,
    private readonly directory: ContactDirectory,
    private readonly cancelLink: (subjectId: string, userId: string) => Promise<string>,
    private readonly logger: Logger,
  ) {}

  async notify(input: Parameters<UserNotifierPort['notify']>[0]): Promise<void> {
    const templateId = TEMPLATE_OF[input.notice];
    const addresses = await this.directory.channelsOf(input.userId);
    if (!templateId || addresses.length === 0) {
      this.logger.warn({ notice: input.notice, subjectId: input.subjectId, channels: addresses.length }, templateId ? 'user has no notification channel' : 'no template for this notice');
      return;
    }
    const endsAt = input.endsAt ?? input.at;
    let message: Parameters<typeof notifyAllChannels>[2];
    switch (templateId) {
      case 'recovery-requested':
        message = { templateId, variables: { requestedAt: input.at }, idempotencyKey: input.idempotencyKey, secret: false };
        break;
      case 'recovery-cooling-off-started':
      case 'recovery-reminder':
        message = { templateId, variables: { endsAt, cancelUrl: await this.cancelLink(input.subjectId, input.userId) }, idempotencyKey: input.idempotencyKey, secret: true };
        break;
      case 'recovery-completed':
        message = { templateId, variables: { completedAt: input.at }, idempotencyKey: input.idempotencyKey, secret: false };
        break;
      case 'recovery-cancelled':
        message = { templateId, variables: { cancelledAt: input.at }, idempotencyKey: input.idempotencyKey, secret: false };
        break;
      case 'account-frozen':
        message = { templateId, variables: { frozenAt: input.at }, idempotencyKey: input.idempotencyKey, secret: false };
        break;
    }
    const results = await notifyAllChannels(this.channels, addresses, message);
    const retryable = results.filter((result) => result.outcome === 'failed' && result.error.retryable);
    for (const result of results) {
      if (result.outcome === 'failed') this.logger.warn({ notice: input.notice, channel: result.kind, code: result.error.code }, 'notification not delivered');
    }
    if (retryable.length > 0) throw new Error(`${retryable.length} channel(s) failed and will be retried`);
  }
}
