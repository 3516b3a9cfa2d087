import { classifyStatus, createWebhookChannel } from './webhook-channel';

const NOW = new Date('2026-03-01T09:00:00Z');

describe('webhook status classification', () => {
  it.each([
    [500, 'delivery_failed', true],
    [502, 'delivery_failed', true],
    [503, 'delivery_failed', true],
    [408, 'delivery_failed', true],
    [425, 'delivery_failed', true],
    [429, 'delivery_failed', true],
    [400, 'delivery_failed', false],
    [409, 'delivery_failed', false],
    [422, 'delivery_failed', false],
    [401, 'misconfigured', false],
    [403, 'misconfigured', false],
    [404, 'misconfigured', false],
    [410, 'misconfigured', false],
    [301, 'misconfigured', false],
    [302, 'misconfigured', false],
    [307, 'misconfigured', false],
  ])('%i → %s, retryable %s', (status, code, retryable) => {
    expect(classifyStatus('sms', status, null, NOW)).toMatchObject({ code, retryable, status, channel: 'sms' });
  });

  it('reads Retry-After as seconds or as an HTTP date (RFC 9110 §10.2.3)', () => {
    expect(classifyStatus('webhook', 429, '7', NOW).retryAfterMs).toBe(7000);
    expect(classifyStatus('webhook', 503, 'Sun, 01 Mar 2026 09:00:30 GMT', NOW).retryAfterMs).toBe(30_000);
    expect(classifyStatus('webhook', 503, 'whenever', NOW).retryAfterMs).toBeUndefined();
    expect(classifyStatus('webhook', 400, '7', NOW).retryAfterMs).toBeUndefined();
  });
});

describe('webhook channel configuration', () => {
  const SECRET = 'x'.repeat(32);

  it('accepts https anywhere and http on a loopback host', () => {
    expect(createWebhookChannel({ kind: 'sms', url: 'https://sms.example.com/send', secret: SECRET }).kind).toBe('sms');
    expect(createWebhookChannel({ kind: 'webhook', url: 'http://127.0.0.1:8080/hook', secret: SECRET }).kind).toBe('webhook');
  });

  it.each([
    ['plain http to a real host', { url: 'http://sms.example.com/send' }],
    ['credentials in the URL', { url: 'https://user:pass@sms.example.com/send' }],
    ['a secret shorter than 32 bytes', { secret: 'x'.repeat(31) }],
    ['the email kind', { kind: 'email' }],
    ['a zero timeout', { timeoutMs: 0 }],
  ])('refuses %s', (_case, override) => {
    expect(() => createWebhookChannel({ kind: 'sms', url: 'https://sms.example.com/send', secret: SECRET, ...override } as never)).toThrow(TypeError);
  });
});
