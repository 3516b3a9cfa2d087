import { ManualClock } from '@tessera/util';
import { type OutboundMessage } from '../notification-channel';
import { NotificationError } from '../notification-error';
import { captureLogs, closedPort, startHttpServer, type TestHttpServer } from '../../test-support/servers';
import { createWebhookChannel, type WebhookChannelOptions, type WebhookPayload } from './webhook-channel';
import { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from './webhook-signature';

const SECRET = 'tessera-int-test-shared-secret-0123456789';
const CODE = '583920';
const NOW = new Date('2026-03-01T09:00:00Z');

const smsCode = (overrides: Partial<OutboundMessage> = {}): OutboundMessage =>
  ({
    recipient: '+4915112345689',
    templateId: 'one-time-code',
    variables: { code: CODE, expiresInMinutes: 5 },
    idempotencyKey: 'auth:otp:0190a5c2-aaaa',
    secret: true,
    ...overrides,
  }) as OutboundMessage;

async function rejection(promise: Promise<unknown>): Promise<NotificationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof NotificationError) return error;
    throw error;
  }
  throw new Error('the send succeeded');
}

describe('signed webhook channel against a real HTTP server', () => {
  let receiver: TestHttpServer;
  const clock = new ManualClock(NOW);
  const channel = (overrides: Partial<WebhookChannelOptions> = {}) =>
    createWebhookChannel({ kind: 'sms', url: receiver.url, secret: SECRET, clock, timeoutMs: 2000, ...overrides });

  beforeEach(async () => {
    receiver = await startHttpServer();
  });
  afterEach(async () => receiver.close());

  it('POSTs signed JSON that the receiver verifies with verifyWebhookSignature; the SMS text carries the code', async () => {
    receiver.respond((request, response) => {
      const valid = verifyWebhookSignature(SECRET, request.headers[SIGNATURE_HEADER] as string, request.rawBody, clock.now());
      response.writeHead(valid ? 202 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'gw-msg-77' }));
    });
    const receipt = await channel().send(smsCode());

    const [request] = receiver.received;
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers[IDEMPOTENCY_KEY_HEADER]).toBe('auth:otp:0190a5c2-aaaa');
    expect(request.headers[SIGNATURE_HEADER]).toMatch(/^t=1772355600,v1=[0-9a-f]{64}$/);
    const payload = JSON.parse(request.rawBody.toString('utf8')) as WebhookPayload;
    expect(payload).toEqual({
      id: 'auth:otp:0190a5c2-aaaa',
      channel: 'sms',
      to: '+4915112345689',
      template: 'one-time-code',
      text: `Tessera sign-in code: ${CODE}. It expires in 5 minutes. Never share it.`,
    });
    expect(receipt).toEqual({
      channel: 'sms',
      templateId: 'one-time-code',
      idempotencyKey: 'auth:otp:0190a5c2-aaaa',
      providerReference: 'gw-msg-77',
      acceptedAt: '2026-03-01T09:00:00.000Z',
    });
  });

  it('the signature fails verification under another secret, over a changed body, or long after it was sent', async () => {
    await channel().send(smsCode());
    const [request] = receiver.received;
    const header = request.headers[SIGNATURE_HEADER] as string;
    expect(verifyWebhookSignature(SECRET, header, request.rawBody, NOW)).toBe(true);
    expect(verifyWebhookSignature(`${SECRET}-rotated`, header, request.rawBody, NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, request.rawBody.toString('utf8').replace(CODE, '000000'), NOW)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, request.rawBody, new Date(NOW.getTime() + 301_000))).toBe(false);
  });

  it('a retried send carries the same idempotency key, with a fresh signature timestamp', async () => {
    const sender = channel();
    await sender.send(smsCode());
    clock.advance(30_000);
    await sender.send(smsCode());
    const [first, retry] = receiver.received;
    expect(retry.headers[IDEMPOTENCY_KEY_HEADER]).toBe(first.headers[IDEMPOTENCY_KEY_HEADER]);
    expect(retry.headers[SIGNATURE_HEADER]).not.toBe(first.headers[SIGNATURE_HEADER]);
    expect(verifyWebhookSignature(SECRET, retry.headers[SIGNATURE_HEADER] as string, retry.rawBody, clock.now())).toBe(true);
    clock.set(NOW);
  });

  it('a push or paging webhook gets the subject and the full text', async () => {
    await channel({ kind: 'webhook' }).send({
      recipient: 'oncall-security',
      templateId: 'on-call-page',
      variables: { reason: 'break-glass-recovery', reference: 'rec-9', subjectUserId: 'user-7', summary: 'Break-glass recovery requested', raisedAt: NOW },
      idempotencyKey: 'wf-rec-9:page',
      secret: false,
    });
    const payload = JSON.parse(receiver.received[0].rawBody.toString('utf8')) as WebhookPayload;
    expect(payload).toMatchObject({ channel: 'webhook', to: 'oncall-security', template: 'on-call-page', subject: '[Tessera] Break-glass recovery rec-9 needs on-call' });
    expect(payload.text).toContain('User: user-7');
  });

  it('500 is a retryable delivery failure', async () => {
    receiver.respond((_request, response) => response.writeHead(500).end('upstream down'));
    expect(await rejection(channel().send(smsCode()))).toMatchObject({ code: 'delivery_failed', retryable: true, status: 500, channel: 'sms' });
  });

  it('503 with Retry-After tells the caller how long to wait', async () => {
    receiver.respond((_request, response) => response.writeHead(503, { 'retry-after': '7' }).end());
    expect(await rejection(channel().send(smsCode()))).toMatchObject({ code: 'delivery_failed', retryable: true, status: 503, retryAfterMs: 7000 });
  });

  it('400 is not retryable, and the error does not repeat what the gateway echoed back (the code)', async () => {
    receiver.respond((request, response) => response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad message', echo: request.rawBody.toString('utf8') })));
    const error = await rejection(channel().send(smsCode()));
    expect(error).toMatchObject({ code: 'delivery_failed', retryable: false, status: 400 });
    expect(JSON.stringify(error)).not.toContain(CODE);
  });

  it('401 (the receiver refused our signature) is misconfigured, not retryable', async () => {
    receiver.respond((_request, response) => response.writeHead(401).end());
    expect(await rejection(channel().send(smsCode()))).toMatchObject({ code: 'misconfigured', retryable: false, status: 401 });
  });

  it('a redirect is not followed: the signed body never reaches the other address', async () => {
    const elsewhere = await startHttpServer();
    try {
      receiver.respond((_request, response) => response.writeHead(307, { location: elsewhere.url }).end());
      expect(await rejection(channel().send(smsCode()))).toMatchObject({ code: 'misconfigured', retryable: false, status: 307 });
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('a receiver that does not answer in time is a retryable timeout', async () => {
    receiver.respond(() => undefined);
    const started = Date.now();
    const error = await rejection(channel({ timeoutMs: 200 }).send(smsCode()));
    expect(error).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an unreachable receiver is a retryable delivery failure', async () => {
    const error = await rejection(createWebhookChannel({ kind: 'sms', url: `http://127.0.0.1:${await closedPort()}/`, secret: SECRET }).send(smsCode()));
    expect(error).toMatchObject({ code: 'delivery_failed', retryable: true });
  });

  it('refuses a malformed phone number before sending anything', async () => {
    expect(await rejection(channel().send(smsCode({ recipient: '0151 1234 5689' })))).toMatchObject({ code: 'recipient_rejected', retryable: false });
    expect(receiver.received).toHaveLength(0);
  });

  it('S30/S32: no log line, receipt or error holds the code, the phone number or the text', async () => {
    const logs = captureLogs();
    const sender = channel({ logger: logs.logger });
    receiver.respond((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"gw-1"}'));
    const receipt = await sender.send(smsCode());
    receiver.respond((request, response) => response.writeHead(422).end(request.rawBody));
    const refused = await rejection(sender.send(smsCode()));
    receiver.respond(() => undefined);
    const timedOut = await rejection(channel({ logger: logs.logger, timeoutMs: 100 }).send(smsCode()));
    const lines = logs.lines();
    expect(lines.split('\n').filter(Boolean)).toHaveLength(3);
    expect(lines).toContain('"idempotencyKey":"auth:otp:0190a5c2-aaaa"');
    expect(lines).toContain('"errorCode":"timeout"');
    const traces = [lines, JSON.stringify(receipt), JSON.stringify(refused), JSON.stringify(timedOut), refused.message, timedOut.message].join('\n');
    for (const forbidden of [CODE, '+4915112345689', '4915112345689', 'Never share it']) expect(traces).not.toContain(forbidden);
  });
});
