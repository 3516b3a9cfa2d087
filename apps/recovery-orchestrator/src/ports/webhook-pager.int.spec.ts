import { createServer, type Server } from 'node:http';
import { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, verifyWebhookSignature, type WebhookPayload } from '@tessera/notifications';
import { NotConfiguredError } from './ports';
import { WebhookPager } from './webhook.adapters';

const SECRET = 'tessera-pager-test-secret-0123456789abcdef';

interface Received {
  readonly payload: WebhookPayload;
  readonly signatureValid: boolean;
  readonly idempotencyKey: string | undefined;
}

/** On-call's receiver: a real HTTP server that checks each request's signature as a receiver must. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({
        payload: JSON.parse(raw) as WebhookPayload,
        signatureValid: verifyWebhookSignature(SECRET, String(request.headers[SIGNATURE_HEADER]), raw, new Date()),
        idempotencyKey: request.headers[IDEMPOTENCY_KEY_HEADER] as string | undefined,
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/on-call`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('on-call pager (signed webhook)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => (receiver = await startReceiver()));
  afterAll(async () => receiver.close());

  it('pages with the on-call-page template, and reminds staff with the staff-reminder template, each signed and keyed', async () => {
    const pager = new WebhookPager(receiver.url, SECRET);
    const raisedAt = new Date();
    await pager.page({ reason: 'incident', reference: 'inc-1', subjectUserId: 'user-7', summary: 'compromise suspected', raisedAt, idempotencyKey: 'incident:inc-1:page' });
    await pager.remind({ notice: 'approval-pending', recoveryId: 'rec-42', userId: 'user-7', idempotencyKey: 'rec-42:reminder:approvals:1', raisedAt });
    await pager.remind({ notice: 'post-incident-review-open', recoveryId: 'rec-43', userId: 'user-8', idempotencyKey: 'rec-43:reminder:review:1', raisedAt });

    expect(receiver.received.map((entry) => [entry.payload.template, entry.signatureValid, entry.idempotencyKey])).toEqual([
      ['on-call-page', true, 'incident:inc-1:page'],
      ['staff-reminder', true, 'rec-42:reminder:approvals:1'],
      ['staff-reminder', true, 'rec-43:reminder:review:1'],
    ]);
    expect(receiver.received[1].payload.text).toContain('rec-42');
    expect(receiver.received[2].payload.text).toContain('rec-43');
    // A reminder is not a page: it does not read as an emergency for the wrong kind of recovery.
    expect(receiver.received[1].payload.text).not.toMatch(/break-glass/i);
  });

  it('fails where on-call can see it when no webhook is configured', async () => {
    const pager = new WebhookPager(undefined, undefined);
    await expect(pager.remind({ notice: 'approval-pending', recoveryId: 'rec-1', userId: 'u', idempotencyKey: 'k', raisedAt: new Date() })).rejects.toBeInstanceOf(NotConfiguredError);
  });
});
