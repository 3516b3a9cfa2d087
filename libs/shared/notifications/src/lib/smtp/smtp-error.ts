import { NotificationError } from '../notification-error';

/** The fields of a nodemailer error this mapping reads (`NodemailerError`, nodemailer 10). */
export interface SmtpFailure {
  readonly code?: string;
  readonly responseCode?: number;
  readonly command?: string;
  readonly permanent?: boolean;
}

/** The server or our credentials or TLS settings are wrong: the same send fails the same way. */
const CONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EREQUIRETLS', 'ECONFIG']);

/**
 * Maps a nodemailer failure to a `NotificationError`. Reply classes follow RFC 5321 §4.2.1: 4yz is
 * transient ("try again later", e.g. greylisting), 5yz permanent, except 503, which says the session
 * was out of sequence rather than that the message was refused (nodemailer's `permanent` flag
 * encodes the same rule; it is used when present).
 *
 * The server's reply text is deliberately not copied into the error: it usually quotes the
 * recipient address, and the error travels into logs and workflow history (S30, S32).
 */
export function classifySmtpFailure(failure: SmtpFailure, timedOut: boolean): NotificationError {
  const channel = 'email' as const;
  const code = typeof failure.code === 'string' ? failure.code : undefined;
  if (timedOut || code === 'ETIMEDOUT') {
    return new NotificationError('timeout', 'the SMTP server did not complete the send in time', true, { channel });
  }
  if (code !== undefined && CONFIGURATION_CODES.has(code)) {
    return new NotificationError('misconfigured', `the SMTP connection failed on authentication or TLS (${code})`, false, { channel });
  }
  const status = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  if (status !== undefined) {
    const permanent = typeof failure.permanent === 'boolean' ? failure.permanent : status >= 500 && status < 600 && status !== 503;
    const command = (failure.command ?? '').toUpperCase();
    if (command.startsWith('RCPT')) {
      return permanent
        ? new NotificationError('recipient_rejected', `the SMTP server refused the recipient (${status})`, false, { channel, status })
        : new NotificationError('delivery_failed', `the SMTP server deferred the recipient (${status})`, true, { channel, status });
    }
    if (command.startsWith('MAIL') && permanent) {
      return new NotificationError('misconfigured', `the SMTP server refused the sender address (${status})`, false, { channel, status });
    }
    return new NotificationError('delivery_failed', `the SMTP server ${permanent ? 'refused' : 'deferred'} the message (${status})`, !permanent, { channel, status });
  }
  if (code === 'EENVELOPE') {
    return new NotificationError('recipient_rejected', 'the message has no deliverable recipient', false, { channel });
  }
  // Connection, socket, DNS and protocol failures, and anything unforeseen: a later attempt may succeed.
  return new NotificationError('delivery_failed', `the SMTP send failed${code ? ` (${code})` : ''}`, true, { channel });
}
