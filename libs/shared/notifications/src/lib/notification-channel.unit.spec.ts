import pino from 'pino';
import { type DeliveryLogger } from './delivery-log';
import { type OutboundMessage, prepareMessage } from './notification-channel';
import { NotificationError } from './notification-error';

const code: OutboundMessage = {
  recipient: 'alice@example.com',
  templateId: 'one-time-code',
  variables: { code: '493817', expiresInMinutes: 5 },
  idempotencyKey: 'auth:otp:0190a5c2',
  secret: true,
};

function failure(run: () => unknown): NotificationError {
  try {
    run();
  } catch (error) {
    if (error instanceof NotificationError) return error;
    throw error;
  }
  throw new Error('prepared without error');
}

describe('prepareMessage: what every adapter checks before anything leaves the process', () => {
  it('renders a valid message for its channel', () => {
    expect(prepareMessage(code, 'email')).toMatchObject({ recipient: 'alice@example.com', rendered: { channel: 'email' } });
    expect(prepareMessage({ ...code, recipient: '+4915112345689' }, 'sms').rendered.text).toContain('493817');
  });

  it('refuses to send a template that carries a secret under secret: false', () => {
    const error = failure(() => prepareMessage({ ...code, secret: false }, 'email'));
    expect(error).toMatchObject({ code: 'misconfigured', retryable: false });
    expect(error.message).toContain('must be marked secret');
  });

  it('allows a non-secret template to be marked secret (over-classifying is harmless)', () => {
    expect(() => prepareMessage({ recipient: 'alice@example.com', templateId: 'account-frozen', variables: { frozenAt: '2026-03-01T09:00:00Z' }, idempotencyKey: 'k', secret: true }, 'email')).not.toThrow();
  });

  it.each([
    ['an empty key', ''],
    ['a key with a space', 'wf 1'],
    ['a key with a line break (header injection)', 'wf-1\r\nX-Evil: 1'],
    ['an over-long key', 'k'.repeat(201)],
  ])('refuses %s as misconfigured', (_case, idempotencyKey) => {
    expect(failure(() => prepareMessage({ ...code, idempotencyKey }, 'email'))).toMatchObject({ code: 'misconfigured', retryable: false });
  });

  it.each([
    ['email', 'not-an-address'],
    ['email', 'alice@example.com\r\nBcc: mallory@example.com'],
    ['email', 'Alice <alice@example.com>'],
    ['sms', '015112345689'],
    ['sms', '+0151123456'],
    ['sms', '+49 151 12345689'],
    ['webhook', 'device 1'],
    ['webhook', ''],
  ] as const)('refuses the %s recipient %j as recipient_rejected, not retryable, without quoting it', (channel, recipient) => {
    const error = failure(() => prepareMessage({ ...code, recipient }, channel));
    expect(error).toMatchObject({ code: 'recipient_rejected', retryable: false, channel });
    if (recipient !== '') expect(error.message).not.toContain(recipient);
  });

  it('refuses a secret classification that is not a boolean', () => {
    const error = failure(() => prepareMessage({ ...code, secret: 'yes' as unknown as boolean }, 'email'));
    expect(error.message).toContain('whether it carries a secret');
  });

  it('the platform logger (pino) fits the DeliveryLogger port', () => {
    const logger: DeliveryLogger = pino({ level: 'silent' });
    expect(typeof logger.info).toBe('function');
  });
});
