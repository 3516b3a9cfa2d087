import {
  type ChannelAddress,
  type DeliveryReceipt,
  type NotificationChannel,
  NotificationError,
  type OutboundMessage,
  renderTemplate,
  TEMPLATE_IDS,
  templateCarriesSecret,
} from '@tessera/notifications';
import pino from 'pino';
import { Writable } from 'node:stream';
import { DomainError } from '@tessera/event-sourcing';
import { AuthServiceContactDirectory, ComposedContactDirectory, ConfiguredContactDirectory, type ContactDirectory } from './contact-directory';
import type { NoticeDeliveryLedger } from './ports';
import { ChannelNotifier, NOTICE_TEMPLATES } from './webhook.adapters';

/** A channel that renders with the real templates (so a bad message fails as it would in production) and records what it accepted. */
class RenderingChannel implements NotificationChannel {
  readonly sent: { message: OutboundMessage; text: string }[] = [];
  failures = 0;
  constructor(readonly kind: 'email' | 'sms' | 'webhook') {}
  async send(message: OutboundMessage): Promise<DeliveryReceipt> {
    const rendered = renderTemplate(message.templateId, message.variables, this.kind);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new NotificationError('delivery_failed', 'gateway answered 503', true, { channel: this.kind, status: 503 });
    }
    this.sent.push({ message, text: rendered.text });
    return { channel: this.kind, templateId: message.templateId, idempotencyKey: message.idempotencyKey, providerReference: null, acceptedAt: new Date().toISOString() };
  }
}

class MemoryLedger implements NoticeDeliveryLedger {
  readonly keys = new Set<string>();
  async delivered(keys: readonly string[]) {
    return new Set(keys.filter((key) => this.keys.has(key)));
  }
  async record(keys: readonly string[]) {
    for (const key of keys) this.keys.add(key);
  }
}

const USER = 'user-7';
const ADDRESSES: ChannelAddress[] = [
  { kind: 'email', address: 'user7@example.org' },
  { kind: 'sms', address: '+4915112345689' },
];
const CANCEL_URL = 'https://tessera.example/recover/cancel#token=v1.k1.payload.mac';

function setUp(addresses: readonly ChannelAddress[] = ADDRESSES) {
  const email = new RenderingChannel('email');
  const sms = new RenderingChannel('sms');
  const ledger = new MemoryLedger();
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _encoding, callback) => (lines.push(chunk.toString()), callback()) }));
  const directory: ContactDirectory = { channelsOf: async () => addresses };
  const notifier = new ChannelNotifier({ email, sms }, directory, async () => CANCEL_URL, logger, ledger);
  return { email, sms, ledger, notifier, logs: () => lines.join('') };
}

describe('ChannelNotifier (S22)', () => {
  it.each(Object.keys(NOTICE_TEMPLATES))('S22: the workflow notice %s has a template and goes out on every channel', async (notice) => {
    const { email, sms, notifier } = setUp();
    await notifier.notify({ userId: USER, subjectId: 'rec-1', notice, idempotencyKey: `rec-1:notice:${notice}`, at: new Date('2026-03-01T09:00:00Z'), endsAt: new Date('2026-03-08T09:00:00Z') });
    expect(email.sent).toHaveLength(1);
    expect(sms.sent).toHaveLength(1);
    const templateId = NOTICE_TEMPLATES[notice as keyof typeof NOTICE_TEMPLATES];
    expect(TEMPLATE_IDS).toContain(templateId);
    // The "this wasn't me" link travels in exactly the templates that declare a secret, marked so.
    expect(email.sent[0].message.secret).toBe(templateCarriesSecret(templateId));
    expect(email.sent[0].text.includes(CANCEL_URL)).toBe(templateCarriesSecret(templateId));
  });

  it('refuses a notice with no template instead of dropping it', async () => {
    const { notifier } = setUp();
    await expect(notifier.notify({ userId: USER, subjectId: 'rec-1', notice: 'recovery-teleported', idempotencyKey: 'k-1', at: new Date(), endsAt: null })).rejects.toThrow('no template');
  });

  it('S22: a channel failing transiently fails the send (to be retried), and the retry sends only to that channel', async () => {
    const { email, sms, notifier } = setUp();
    sms.failures = 1;
    const message = { templateId: 'factor-bound', variables: { factorKind: 'totp', occurredAt: '2026-03-01T09:00:00Z' }, idempotencyKey: 'notice:event-1', secret: false } as const;
    await expect(notifier.send({ userId: USER, notice: 'factor-bound', message })).rejects.toThrow('1 channel(s) failed');
    const retried = await notifier.send({ userId: USER, notice: 'factor-bound', message });
    expect(retried).toEqual({ channels: 2, alreadyDelivered: 1, delivered: 1, failed: 0 });
    expect(email.sent).toHaveLength(1);
    expect(sms.sent).toHaveLength(1);
    // A third delivery of the same notice (a redelivered event) sends nothing.
    expect(await notifier.send({ userId: USER, notice: 'factor-bound', message })).toEqual({ channels: 2, alreadyDelivered: 2, delivered: 0, failed: 0 });
  });

  it('S22: a user with no channel is logged with a count and skipped', async () => {
    const { notifier, logs } = setUp([]);
    const message = { templateId: 'device-revoked', variables: { reason: 'user_removed', revokedAt: '2026-03-01T09:00:00Z' }, idempotencyKey: 'notice:event-2', secret: false } as const;
    expect(await notifier.send({ userId: USER, notice: 'device-revoked', message })).toEqual({ channels: 0, alreadyDelivered: 0, delivered: 0, failed: 0 });
    expect(logs()).toContain('"channels":0');
  });

  it('S30: logs counts and kinds, never an address, a link or a body', async () => {
    const { notifier, logs } = setUp();
    await notifier.notify({ userId: USER, subjectId: 'rec-1', notice: 'recovery-requested', idempotencyKey: 'rec-1:notice:recovery-requested', at: new Date(), endsAt: null });
    expect(logs()).toContain('"kinds":["email","sms"]');
    for (const secretOrPersonal of ['user7@example.org', '+4915112345689', CANCEL_URL, 'token=', 'was requested']) expect(logs()).not.toContain(secretOrPersonal);
  });

  it('reports an address whose kind has no adapter as a permanent failure, logged, not retried', async () => {
    const { email, notifier, logs } = setUp([...ADDRESSES, { kind: 'webhook', address: USER }]);
    const message = { templateId: 'authenticator-restored', variables: { restoredAt: '2026-03-01T09:00:00Z' }, idempotencyKey: 'notice:event-3', secret: false } as const;
    expect(await notifier.send({ userId: USER, notice: 'authenticator-restored', message })).toMatchObject({ delivered: 2, failed: 1 });
    expect(email.sent).toHaveLength(1);
    expect(logs()).toContain('"code":"misconfigured"');
  });
});

describe('contact directories', () => {
  it('S22: composes the organisation directory, the factors from auth-service and the push webhook, deduplicated by kind and address', async () => {
    const organisation = new ConfiguredContactDirectory(JSON.stringify({ [USER]: [{ kind: 'email', address: 'User7@Example.org' }] }));
    const factors: ContactDirectory = { channelsOf: async () => [...ADDRESSES, { kind: 'email', address: 'user7@example.org' }] };
    const composed = new ComposedContactDirectory([organisation, factors], true);
    expect(await composed.channelsOf(USER)).toEqual([
      { kind: 'email', address: 'User7@Example.org' },
      { kind: 'sms', address: '+4915112345689' },
      { kind: 'webhook', address: USER },
    ]);
    expect(await new ComposedContactDirectory([organisation], false).channelsOf('someone-else')).toEqual([]);
  });

  it("reads the user's factors from auth-service; an older auth-service without the method serves none; a refusal is retried, not final", async () => {
    const silent = pino({ level: 'silent' });
    const answering = new AuthServiceContactDirectory({ listContactChannels: async () => [{ kind: 'sms', address: '+4915112345689' }] }, silent);
    expect(await answering.channelsOf(USER)).toEqual([{ kind: 'sms', address: '+4915112345689' }]);
    expect(await new AuthServiceContactDirectory({ listContactChannels: async () => null }, silent).channelsOf(USER)).toEqual([]);
    const refusing = new AuthServiceContactDirectory({ listContactChannels: () => Promise.reject(new DomainError('auth_forbidden', 'This needs the scopes: contacts:read.', 'forbidden')) }, silent);
    const error = await refusing.channelsOf(USER).catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(DomainError);
    expect((error as Error).message).toContain('contacts:read');
  });

  it('refuses a malformed RECOVERY_CONTACTS_JSON at start-up, naming the setting and not the value', () => {
    expect(() => new ConfiguredContactDirectory('{"u":[{"kind":"pigeon","address":"secret-address@example.org"}]}')).toThrow(/^RECOVERY_CONTACTS_JSON must map/);
    expect(() => new ConfiguredContactDirectory('{not json')).toThrow('RECOVERY_CONTACTS_JSON is not valid JSON');
    try {
      new ConfiguredContactDirectory('{"u":[{"kind":"pigeon","address":"secret-address@example.org"}]}');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-address');
    }
  });
});

describe('ChannelNotifier without any channel configured', () => {
  it('looks up no address and sends nothing, saying which settings are missing', async () => {
    const lookups: string[] = [];
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _encoding, callback) => (lines.push(chunk.toString()), callback()) }));
    const notifier = new ChannelNotifier({}, { channelsOf: async (userId) => (lookups.push(userId), ADDRESSES) }, async () => CANCEL_URL, logger);
    await notifier.notify({ userId: USER, subjectId: 'rec-1', notice: 'recovery-requested', idempotencyKey: 'k-1', at: new Date(), endsAt: null });
    expect(lookups).toEqual([]);
    expect(lines.join('')).toContain('no notification channel is configured');
  });
});
