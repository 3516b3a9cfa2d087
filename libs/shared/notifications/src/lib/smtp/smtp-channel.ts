import { createHash } from 'node:crypto';
import { type Clock, systemClock } from '@tessera/util';
import nodemailer, { type SMTPTransportOptions } from 'nodemailer';
import { z } from 'zod';
import { type DeliveryLogger, sendWithDeliveryLog, silentDeliveryLogger } from '../delivery-log';
import { isLoopbackHost } from '../endpoints';
import { type DeliveryReceipt, type NotificationChannel, type OutboundMessage, prepareMessage } from '../notification-channel';
import { NotificationError } from '../notification-error';
import { classifySmtpFailure, type SmtpFailure } from './smtp-error';

/**
 * - `implicit-tls`: TLS from the first byte, usually port 465 (RFC 8314 §3.3 prefers it for
 *   submission).
 * - `starttls`: plaintext greeting, then STARTTLS, and the send fails if the server does not offer
 *   it, so an attacker stripping STARTTLS from the EHLO reply gets an error rather than a code in clear
 *   (RFC 3207 §6; the STRIPTLS downgrade).
 * - `none`: plaintext, allowed only to a relay on this machine (a loopback host).
 */
export type SmtpSecurity = 'implicit-tls' | 'starttls' | 'none';

export interface SmtpChannelOptions {
  readonly host: string;
  readonly port: number;
  readonly security: SmtpSecurity;
  /** Server certificates are always verified; for a private CA pass it here rather than turning checks off. */
  readonly tls?: {
    readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
    /** The name to verify the certificate against, when it differs from `host`. */
    readonly servername?: string;
    readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  };
  readonly auth?: { readonly user: string; readonly pass: string };
  readonly from: { readonly address: string; readonly name?: string };
  /** The name sent in EHLO. Default: the machine's host name. */
  readonly clientName?: string;
  readonly timeouts?: {
    /** TCP (and implicit TLS) connection. Default 10 s. */
    readonly connectMs?: number;
    /** From connecting to the server's greeting. Default 10 s. */
    readonly greetingMs?: number;
    /** Inactivity on an open connection. Default 30 s. */
    readonly socketMs?: number;
    /** The whole send, from connecting to the server's final reply. Default 60 s. */
    readonly sendMs?: number;
  };
  readonly clock?: Clock;
  readonly logger?: DeliveryLogger;
}

export interface SmtpChannel extends NotificationChannel {
  readonly kind: 'email';
  /** Closes idle connections; sends in flight finish. */
  close(): void;
}

const emailAddress = z.email().max(254);
const DISPLAY_NAME = /^[^\p{Cc}\u202A-\u202E\u2066-\u2069]{1,64}$/u;

/**
 * Email through an SMTP server (nodemailer). Every send opens its own connection: sends are rare
 * (codes, security notices), and a fresh connection keeps one send's failure from poisoning the
 * next.
 *
 * The Message-ID is derived from the idempotency key, so an activity's retry sends the same
 * Message-ID: mail systems that see both can tell they are one message (RFC 5322 §3.6.4: one
 * identifier per message, and a retried send is the same message). Nodemailer's own logging is
 * off: its debug mode writes the message data, code included, to the logger.
 */
export function createSmtpChannel(options: SmtpChannelOptions): SmtpChannel {
  const { host, port, security } = options;
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('the SMTP host is required');
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new TypeError('the SMTP port must be 1–65535');
  if (security !== 'implicit-tls' && security !== 'starttls' && security !== 'none') {
    throw new TypeError('SMTP security must be implicit-tls, starttls or none');
  }
  if (security === 'none' && !isLoopbackHost(host)) {
    throw new TypeError('plaintext SMTP is allowed only to a relay on this machine (a loopback host): codes would cross the network in clear');
  }
  if (!emailAddress.safeParse(options.from?.address).success) throw new TypeError('the from address must be an email address');
  if (options.from.name !== undefined && !DISPLAY_NAME.test(options.from.name)) throw new TypeError('the from name must be 1–64 printable characters');
  const timeouts = {
    connectMs: options.timeouts?.connectMs ?? 10_000,
    greetingMs: options.timeouts?.greetingMs ?? 10_000,
    socketMs: options.timeouts?.socketMs ?? 30_000,
    sendMs: options.timeouts?.sendMs ?? 60_000,
  };
  for (const [name, value] of Object.entries(timeouts)) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`the SMTP timeout ${name} must be a positive number of milliseconds`);
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentDeliveryLogger;
  const from = options.from.name ? { name: options.from.name, address: options.from.address } : options.from.address;
  const messageIdDomain = options.from.address.slice(options.from.address.lastIndexOf('@') + 1);

  const transportOptions: SMTPTransportOptions = {
    host,
    port,
    secure: security === 'implicit-tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'none',
    tls: {
      rejectUnauthorized: true,
      minVersion: options.tls?.minVersion ?? 'TLSv1.2',
      ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca as string | Buffer | Array<string | Buffer> }),
      ...(options.tls?.servername === undefined ? {} : { servername: options.tls.servername }),
    },
    ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
    ...(options.clientName ? { name: options.clientName } : {}),
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    dnsTimeout: timeouts.connectMs,
    logger: false,
    debug: false,
    transactionLog: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  const transporter = nodemailer.createTransport(transportOptions);

  async function deliver(message: OutboundMessage): Promise<DeliveryReceipt> {
    const { recipient, rendered } = prepareMessage(message, 'email');
    if (rendered.channel !== 'email') throw new NotificationError('misconfigured', 'rendered for the wrong channel', false, { channel: 'email' });
    const signal = AbortSignal.timeout(timeouts.sendMs);
    try {
      const info = await transporter.sendMail({
        from,
        to: recipient,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        date: clock.now(),
        messageId: `<${createHash('sha256').update(message.idempotencyKey, 'utf8').digest('hex').slice(0, 40)}@${messageIdDomain}>`,
        // RFC 3834 §5: marks the message as automatic, so vacation responders do not reply to it
        // (a reply quoting the original would send a code back out).
        headers: { 'Auto-Submitted': 'auto-generated' },
        xMailer: false,
        disableFileAccess: true,
        disableUrlAccess: true,
        signal,
      });
      if (!info.accepted.some((address) => address.toLowerCase() === recipient.toLowerCase())) {
        throw new NotificationError('recipient_rejected', 'the SMTP server did not accept the recipient', false, { channel: 'email' });
      }
      return {
        channel: 'email',
        templateId: message.templateId,
        idempotencyKey: message.idempotencyKey,
        providerReference: info.serverMessageId ?? info.messageId ?? null,
        acceptedAt: clock.now().toISOString(),
      };
    } catch (error) {
      if (error instanceof NotificationError) throw error;
      throw classifySmtpFailure(typeof error === 'object' && error !== null ? (error as SmtpFailure) : {}, signal.aborted);
    }
  }

  return {
    kind: 'email',
    send: (message) => sendWithDeliveryLog(logger, 'email', message, () => deliver(message)),
    close() {
      transporter.close();
    },
  };
}
