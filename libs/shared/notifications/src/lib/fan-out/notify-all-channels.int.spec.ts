import { ManualClock } from '@tessera/util';
import { findPart, parseMime } from '../../test-support/mime';
import { captureLogs, startHttpServer, startSmtpServer, type TestHttpServer, type TestSmtpServer } from '../../test-support/servers';
import { createSignedLink, generateLinkNonce, type LinkKeyRing, verifySignedLink, WASNT_ME_LINK_PURPOSE } from '../links/signed-link';
import { createSmtpChannel } from '../smtp/smtp-channel';
import { createWebhookChannel, type WebhookPayload } from '../webhook/webhook-channel';
import { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../webhook/webhook-signature';
import { notifyAllChannels } from './notify-all-channels';

const SMS_SECRET = 'tessera-int-sms-gateway-secret-0123456789';
const PUSH_SECRET = 'tessera-int-push-webhook-secret-0123456789';
const NOW = new Date('2026-03-01T09:00:00Z');
const LINK_KEYS: LinkKeyRing = { currentKid: 'k2026', keys: { k2026: new Uint8Array(32).fill(42) } };

describe('S22: a security notice on every channel, with real SMTP and HTTP receivers', () => {
  let smtp: TestSmtpServer;
  let smsGateway: TestHttpServer;
  let push: TestHttpServer;
  const clock = new ManualClock(NOW);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    smsGateway = await startHttpServer();
    push = await startHttpServer();
  });
  afterAll(async () => {
    await Promise.all([smtp?.close(), smsGateway?.close(), push?.close()]);
  });

  it('S22/S32: the cooling-off notice with a signed "this wasn\'t me" link reaches every channel independently of a failing one', async () => {
    const logs = captureLogs();
    const email = createSmtpChannel({ host: '127.0.0.1', port: smtp.port, security: 'none', from: { address: 'no-reply@tessera.test' }, clock, logger: logs.logger });
    const sms = createWebhookChannel({ kind: 'sms', url: smsGateway.url, secret: SMS_SECRET, clock, logger: logs.logger });
    const webhook = createWebhookChannel({ kind: 'webhook', url: push.url, secret: PUSH_SECRET, clock, logger: logs.logger });
    smsGateway.respond((_request, response) => response.writeHead(500).end());

    // What the notification activity does: make the link inside the activity, send, return only the results.
    const endsAt = new Date(NOW.getTime() + 24 * 3600_000);
    const link = createSignedLink(
      { baseUrl: 'https://tessera.example/recovery/cancel', purpose: WASNT_ME_LINK_PURPOSE, subjectId: 'rec-0190a5c2', expiresAt: endsAt, nonce: generateLinkNonce() },
      LINK_KEYS,
    );
    const results = await notifyAllChannels(
      { email, sms, webhook },
      [
        { kind: 'sms', address: '+4915112345689' },
        { kind: 'email', address: 'alice@example.test' },
        { kind: 'webhook', address: 'device-0190a5c2' },
      ],
      {
        templateId: 'recovery-cooling-off-started',
        variables: { endsAt, cancelUrl: link.url },
        idempotencyKey: 'wf-rec-0190a5c2:cooling-off-notice',
        secret: true,
      },
    );
    email.close();

    // The SMS gateway failed; email and push still delivered, each reported at its position.
    expect(results.map((result) => [result.index, result.kind, result.outcome])).toEqual([
      [0, 'sms', 'failed'],
      [1, 'email', 'delivered'],
      [2, 'webhook', 'delivered'],
    ]);
    expect(results[0]).toMatchObject({ error: { code: 'delivery_failed', retryable: true, status: 500 } });

    // The email carries the link; the token read back from it verifies, for this recovery.
    const mail = parseMime(smtp.received.at(-1)!.raw);
    expect(smtp.received.at(-1)!.rcptTo).toEqual(['alice@example.test']);
    const text = findPart(mail, 'text/plain')!.body;
    const token = /#token=([A-Za-z0-9._-]+)/.exec(text)?.[1];
    expect(token).toBe(link.token);
    expect(verifySignedLink(token!, LINK_KEYS, NOW, WASNT_ME_LINK_PURPOSE)).toMatchObject({ subjectId: 'rec-0190a5c2', expiresAt: endsAt });
    expect(findPart(mail, 'text/html')!.body).toContain(`href="${link.url}"`);

    // Push and SMS requests are signed with their own secrets and carry per-address idempotency keys.
    const pushed = push.received.at(-1)!;
    expect(verifyWebhookSignature(PUSH_SECRET, pushed.headers[SIGNATURE_HEADER] as string, pushed.rawBody, NOW)).toBe(true);
    expect(verifyWebhookSignature(SMS_SECRET, pushed.headers[SIGNATURE_HEADER] as string, pushed.rawBody, NOW)).toBe(false);
    expect((JSON.parse(pushed.rawBody.toString('utf8')) as WebhookPayload).text).toContain(link.url);
    const smsKey = smsGateway.received.at(-1)!.headers[IDEMPOTENCY_KEY_HEADER];
    expect(pushed.headers[IDEMPOTENCY_KEY_HEADER]).toMatch(/^wf-rec-0190a5c2:cooling-off-notice~[0-9a-f]{16}$/);
    expect(smsKey).toMatch(/^wf-rec-0190a5c2:cooling-off-notice~[0-9a-f]{16}$/);
    expect(smsKey).not.toBe(pushed.headers[IDEMPOTENCY_KEY_HEADER]);

    // What the activity returns and what was logged hold no address and no part of the link token.
    const traces = `${JSON.stringify(results)}\n${logs.lines()}`;
    for (const forbidden of ['alice@example.test', '+4915112345689', 'device-0190a5c2', link.token.split('.')[2], link.token.split('.')[3]]) {
      expect(traces).not.toContain(forbidden);
    }
    expect(logs.lines().split('\n').filter(Boolean)).toHaveLength(3);
  });
});
