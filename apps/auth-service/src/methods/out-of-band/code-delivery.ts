import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { createSmtpChannel, createWebhookChannel, type NotificationChannel, NotificationError, type SmtpChannel } from '@tessera/notifications';
import { CONFIG, LOGGER } from '@tessera/platform';
import { DomainError } from '@tessera/event-sourcing';
import type { Logger } from 'pino';
import type { AuthServiceConfig } from '../../config/auth-config';

export type DeliveryChannel = 'email' | 'sms';

/**
 * Sends one-time codes and passes through @tessera/notifications: SMTP for email, the signed HTTP
 * webhook of an SMS gateway for SMS. The code reaches the user only through this path; it is never
 * logged, stored in clear or put in an event (S29, S30).
 */
@Injectable()
export class CodeDelivery implements OnModuleDestroy {
  private readonly email?: SmtpChannel;
  private readonly sms?: NotificationChannel;

  constructor(@Inject(CONFIG) config: AuthServiceConfig, @Inject(LOGGER) logger: Logger) {
    if (config.AUTH_SMTP_URL) {
      const url = new URL(config.AUTH_SMTP_URL);
      const from = /^(?:(.*)<([^>]+)>|([^<>\s]+))$/.exec(config.AUTH_SMTP_FROM.trim());
      this.email = createSmtpChannel({
        host: url.hostname,
        port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
        security: url.protocol === 'smtps:' ? 'implicit-tls' : url.searchParams.get('security') === 'none' ? 'none' : 'starttls',
        auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
        from: from?.[2] ? { address: from[2].trim(), name: from[1]?.trim() || undefined } : { address: from?.[3] ?? config.AUTH_SMTP_FROM },
        logger,
      });
    }
    if (config.AUTH_SMS_WEBHOOK_URL && config.AUTH_SMS_WEBHOOK_SECRET) {
      this.sms = createWebhookChannel({ kind: 'sms', url: config.AUTH_SMS_WEBHOOK_URL, secret: config.AUTH_SMS_WEBHOOK_SECRET, logger });
    }
  }

  available(channel: DeliveryChannel): boolean {
    return channel === 'email' ? this.email !== undefined : this.sms !== undefined;
  }

  async sendCode(channel: DeliveryChannel, recipient: string, code: string, expiresInMinutes: number, purpose: 'sign-in' | 'recovery', idempotencyKey: string): Promise<void> {
    const target = channel === 'email' ? this.email : this.sms;
    if (target === undefined) throw new DomainError('delivery_unavailable', `no ${channel} delivery is configured`, 'invalid');
    try {
      await target.send({ recipient, templateId: 'one-time-code', variables: { code, expiresInMinutes, purpose }, idempotencyKey, secret: true });
    } catch (error) {
      if (error instanceof NotificationError) {
        throw new DomainError('delivery_failed', `the ${channel} could not be delivered (${error.code})`, error.code === 'recipient_rejected' ? 'invalid' : 'conflict');
      }
      throw error;
    }
  }

  onModuleDestroy(): void {
    this.email?.close();
  }
}
