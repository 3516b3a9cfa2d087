import { ManualClock } from '@tessera/util';
import { type OutboundMessage } from '../notification-channel';
import { NotificationError } from '../notification-error';
import { findPart, parseMime } from '../../test-support/mime';
import { captureLogs, closedPort, startSilentTcpServer, startSmtpServer, type TestSmtpServer } from '../../test-support/servers';
import { createSmtpChannel, type SmtpChannelOptions } from './smtp-channel';

const CODE = '493817';
const FROM = { address: 'no-reply@tessera.test', name: 'Tessera' };

const codeMessage = (overrides: Partial<OutboundMessage> = {}): OutboundMessage =>
  ({
    recipient: 'alice@example.test',
    templateId: 'one-time-code',
    variables: { code: CODE, expiresInMinutes: 10, purpose: 'sign-in' },
    idempotencyKey: 'auth:otp:0190a5c2-7f1e',
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

describe('SMTP channel against a real SMTP server', () => {
  let server: TestSmtpServer;
  const clock = new ManualClock(new Date('2026-03-01T09:00:00Z'));
  const options = (overrides: Partial<SmtpChannelOptions> = {}): SmtpChannelOptions => ({
    host: '127.0.0.1',
    port: server.port,
    security: 'none',
    from: FROM,
    clock,
    timeouts: { connectMs: 2000, greetingMs: 2000, socketMs: 2000, sendMs: 5000 },
    ...overrides,
  });

  beforeAll(async () => {
    server = await startSmtpServer({
      refuseRecipient: (address) => (address.startsWith('nobody@') ? 550 : address.startsWith('later@') ? 450 : undefined),
    });
  });
  afterAll(async () => server?.close());

  it('delivers a one-time code to the recipient: envelope, headers, subject, and the code in both bodies', async () => {
    const channel = createSmtpChannel(options());
    const receipt = await channel.send(codeMessage());
    channel.close();

    const mail = server.received.at(-1)!;
    expect(mail.mailFrom).toBe(FROM.address);
    expect(mail.rcptTo).toEqual(['alice@example.test']);
    const parsed = parseMime(mail.raw);
    expect(parsed.headers.get('to')).toBe('alice@example.test');
    expect(parsed.headers.get('from')).toBe('Tessera <no-reply@tessera.test>');
    expect(parsed.headers.get('subject')).toBe('Your Tessera sign-in code');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(parsed.headers.get('date')).toBe('Sun, 01 Mar 2026 09:00:00 +0000');
    expect(parsed.headers.get('x-mailer')).toBeUndefined();
    expect(findPart(parsed, 'text/plain')?.body).toContain(`    ${CODE}\n`);
    expect(findPart(parsed, 'text/plain')?.body).toContain('expires in 10 minutes');
    expect(findPart(parsed, 'text/html')?.body).toContain(`<strong>${CODE}</strong>`);

    expect(receipt).toEqual({
      channel: 'email',
      templateId: 'one-time-code',
      idempotencyKey: 'auth:otp:0190a5c2-7f1e',
      providerReference: parsed.headers.get('message-id'),
      acceptedAt: '2026-03-01T09:00:00.000Z',
    });
  });

  it('S30: codes go into the message body only, never the subject or any other header', async () => {
    const channel = createSmtpChannel(options());
    await channel.send(codeMessage());
    const parsed = parseMime(server.received.at(-1)!.raw);
    for (const [name, value] of parsed.headers) expect(`${name}: ${value}`).not.toContain(CODE);
  });

  it('a retried send (same idempotency key) carries the same Message-ID; another key, another Message-ID', async () => {
    const channel = createSmtpChannel(options());
    const first = await channel.send(codeMessage());
    const retry = await channel.send(codeMessage());
    const other = await channel.send(codeMessage({ idempotencyKey: 'auth:otp:0190a5c2-7f1f' }));
    const ids = server.received.slice(-3).map((mail) => parseMime(mail.raw).headers.get('message-id'));
    expect(ids[0]).toMatch(/^<[0-9a-f]{40}@tessera\.test>$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    expect([first.providerReference, retry.providerReference, other.providerReference]).toEqual(ids);
  });

  it('delivers a security notice with a user-chosen name escaped in the HTML part', async () => {
    const channel = createSmtpChannel(options());
    await channel.send({
      recipient: 'alice@example.test',
      templateId: 'factor-bound',
      variables: { factorKind: 'webauthn', factorName: '<b>Key</b> & "co"', occurredAt: '2026-03-01T08:59:00Z' },
      idempotencyKey: 'wf-1:notify-bound',
      secret: false,
    });
    const parsed = parseMime(server.received.at(-1)!.raw);
    expect(parsed.headers.get('subject')).toBe('A sign-in method was added to your account');
    expect(findPart(parsed, 'text/html')?.body).toContain('(&quot;&lt;b&gt;Key&lt;/b&gt; &amp; &quot;co&quot;&quot;)');
    expect(findPart(parsed, 'text/plain')?.body).toContain('("<b>Key</b> & "co"")');
  });

  it('an SMTP rejection of the recipient (550) is recipient_rejected, not retryable', async () => {
    const before = server.received.length;
    const error = await rejection(createSmtpChannel(options()).send(codeMessage({ recipient: 'nobody@example.test' })));
    expect(error).toMatchObject({ code: 'recipient_rejected', retryable: false, status: 550, channel: 'email' });
    expect(server.received.length).toBe(before);
  });

  it('a deferral of the recipient (450, e.g. greylisting) is retryable', async () => {
    const error = await rejection(createSmtpChannel(options()).send(codeMessage({ recipient: 'later@example.test' })));
    expect(error).toMatchObject({ code: 'delivery_failed', retryable: true, status: 450 });
  });

  it('a refused connection is retryable', async () => {
    const error = await rejection(createSmtpChannel(options({ port: await closedPort() })).send(codeMessage()));
    expect(error).toMatchObject({ code: 'delivery_failed', retryable: true });
  });

  it('a server that never greets is a retryable timeout', async () => {
    const silent = await startSilentTcpServer();
    try {
      const error = await rejection(createSmtpChannel(options({ port: silent.port, timeouts: { greetingMs: 200 } })).send(codeMessage()));
      expect(error).toMatchObject({ code: 'timeout', retryable: true });
    } finally {
      await silent.close();
    }
  });

  it('a server that takes the message but never answers is a retryable timeout, within the send deadline', async () => {
    const stalling = await startSmtpServer({ stallData: true });
    try {
      const started = Date.now();
      const error = await rejection(createSmtpChannel(options({ port: stalling.port, timeouts: { sendMs: 300, socketMs: 60_000 } })).send(codeMessage()));
      expect(error).toMatchObject({ code: 'timeout', retryable: true });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await stalling.close();
    }
  });

  it('with STARTTLS required, a server that does not offer it is refused as misconfigured: no code goes out in clear', async () => {
    const before = server.received.length;
    const error = await rejection(createSmtpChannel(options({ security: 'starttls' })).send(codeMessage()));
    expect(error).toMatchObject({ code: 'misconfigured', retryable: false });
    expect(server.received.length).toBe(before);
  });

  it('refuses an invalid address before connecting', async () => {
    const before = server.received.length;
    const error = await rejection(createSmtpChannel(options()).send(codeMessage({ recipient: 'alice@example.test\r\nBcc: mallory@example.test' })));
    expect(error).toMatchObject({ code: 'recipient_rejected', retryable: false });
    expect(server.received.length).toBe(before);
  });

  it('S30/S32: no log line, receipt or error holds the code, the recipient, the subject or the body', async () => {
    const logs = captureLogs();
    const channel = createSmtpChannel(options({ logger: logs.logger }));
    const receipt = await channel.send(codeMessage());
    const failures = [
      await rejection(channel.send(codeMessage({ recipient: 'nobody@example.test' }))),
      await rejection(channel.send(codeMessage({ recipient: 'later@example.test' }))),
      await rejection(createSmtpChannel(options({ port: await closedPort(), logger: logs.logger })).send(codeMessage())),
    ];
    const lines = logs.lines();
    expect(lines.split('\n').filter(Boolean)).toHaveLength(4);
    expect(lines).toContain('"outcome":"delivered"');
    expect(lines).toContain('"classification":"secret"');
    expect(lines).toContain('"errorCode":"recipient_rejected"');
    const traces = [lines, JSON.stringify(receipt), ...failures.map((failure) => JSON.stringify(failure)), ...failures.map((failure) => failure.message)].join('\n');
    for (const forbidden of [CODE, 'alice@example.test', 'nobody@example.test', 'later@example.test', 'Your Tessera sign-in code', 'Use this code']) {
      expect(traces).not.toContain(forbidden);
    }
  });

  it('the log scan would find a leaked code (the check itself can fail)', () => {
    const logs = captureLogs();
    logs.logger.info({ variables: { code: CODE } }, 'leak');
    expect(logs.lines()).toContain(CODE);
  });
});
