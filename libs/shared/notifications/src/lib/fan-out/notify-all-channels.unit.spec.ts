import { type ChannelKind, type DeliveryReceipt, type NotificationChannel, type OutboundMessage } from '../notification-channel';
import { NotificationError } from '../notification-error';
import { type ChannelAddress, deriveIdempotencyKey, type FanOutMessage, notifyAllChannels } from './notify-all-channels';

/** A channel that records what it was asked to send and answers as told. */
function fakeChannel(kind: ChannelKind, answer: (message: OutboundMessage) => Promise<DeliveryReceipt> | DeliveryReceipt = (message) => receipt(kind, message)) {
  const sent: OutboundMessage[] = [];
  const channel: NotificationChannel = {
    kind,
    send: (message) => {
      sent.push(message);
      return Promise.resolve().then(() => answer(message));
    },
  };
  return { channel, sent };
}

function receipt(kind: ChannelKind, message: OutboundMessage): DeliveryReceipt {
  return { channel: kind, templateId: message.templateId, idempotencyKey: message.idempotencyKey, providerReference: null, acceptedAt: '2026-03-01T09:00:00.000Z' };
}

const MESSAGE: FanOutMessage = {
  templateId: 'factor-bound',
  variables: { factorKind: 'webauthn', occurredAt: '2026-03-01T09:00:00Z' },
  idempotencyKey: 'wf-recovery-1:notify-bound',
  secret: false,
};

const ADDRESSES: readonly ChannelAddress[] = [
  { kind: 'email', address: 'alice@example.com' },
  { kind: 'sms', address: '+4915112345689' },
  { kind: 'webhook', address: 'device-7' },
];

describe('notifyAllChannels (S22)', () => {
  it('S22: sends to every registered address, each through the channel of its kind, and reports each in order', async () => {
    const email = fakeChannel('email');
    const sms = fakeChannel('sms');
    const push = fakeChannel('webhook');
    const results = await notifyAllChannels({ email: email.channel, sms: sms.channel, webhook: push.channel }, ADDRESSES, MESSAGE);
    expect(results.map((result) => [result.index, result.kind, result.outcome])).toEqual([
      [0, 'email', 'delivered'],
      [1, 'sms', 'delivered'],
      [2, 'webhook', 'delivered'],
    ]);
    expect(email.sent.map((message) => message.recipient)).toEqual(['alice@example.com']);
    expect(sms.sent.map((message) => message.recipient)).toEqual(['+4915112345689']);
    expect(push.sent.map((message) => message.recipient)).toEqual(['device-7']);
    expect(sms.sent[0]).toMatchObject({ templateId: 'factor-bound', variables: MESSAGE.variables, secret: false });
  });

  it('S22: one channel failing, one throwing something unforeseen, one never answering for a while: the others still deliver', async () => {
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
    const email = fakeChannel('email', () => {
      throw new NotificationError('delivery_failed', 'the SMTP server deferred the message (451)', true, { channel: 'email', status: 451 });
    });
    const sms = fakeChannel('sms', () => {
      throw new TypeError('boom: +4915112345689 code 493817');
    });
    const push = fakeChannel('webhook', async (message) => {
      await slowGate;
      return receipt('webhook', message);
    });
    const second = fakeChannel('email');
    const pending = notifyAllChannels(
      { email: { kind: 'email', send: (m) => (m.recipient === 'bob@example.com' ? second.channel.send(m) : email.channel.send(m)) }, sms: sms.channel, webhook: push.channel },
      [...ADDRESSES, { kind: 'email', address: 'bob@example.com' }],
      MESSAGE,
    );
    // Every send started before any finished: nothing waits on the slow channel or on a failure.
    await new Promise((resolve) => setImmediate(resolve));
    expect([email.sent.length, sms.sent.length, push.sent.length, second.sent.length]).toEqual([1, 1, 1, 1]);
    releaseSlow();
    const results = await pending;
    expect(results.map((result) => result.outcome)).toEqual(['failed', 'failed', 'delivered', 'delivered']);
    expect(results[0]).toMatchObject({ error: { code: 'delivery_failed', retryable: true, status: 451 } });
    expect(results[1]).toMatchObject({ error: { code: 'delivery_failed', retryable: true, channel: 'sms' } });
    // An unforeseen error is replaced, not passed on: its message could quote anything.
    expect(JSON.stringify(results[1])).not.toContain('493817');
  });

  it('never rejects, even when a channel throws synchronously', async () => {
    const broken: NotificationChannel = {
      kind: 'email',
      send: () => {
        throw new Error('synchronous');
      },
    };
    await expect(notifyAllChannels({ email: broken }, ADDRESSES.slice(0, 1), MESSAGE)).resolves.toMatchObject([{ outcome: 'failed', error: { code: 'delivery_failed' } }]);
  });

  it('reports an address whose kind has no channel as misconfigured instead of skipping it silently', async () => {
    const email = fakeChannel('email');
    const results = await notifyAllChannels({ email: email.channel }, ADDRESSES, MESSAGE);
    expect(results.map((result) => result.outcome)).toEqual(['delivered', 'failed', 'failed']);
    expect(results[1]).toMatchObject({ kind: 'sms', error: { code: 'misconfigured', retryable: false, message: 'no sms channel is configured' } });
  });

  it('refuses a channel registered under the wrong kind', async () => {
    const results = await notifyAllChannels({ sms: fakeChannel('webhook').channel }, [ADDRESSES[1]], MESSAGE);
    expect(results[0]).toMatchObject({ outcome: 'failed', error: { code: 'misconfigured' } });
  });

  it('gives each address its own stable idempotency key, so two numbers behind one SMS gateway are not taken for a retry', async () => {
    const sms = fakeChannel('sms');
    const numbers: ChannelAddress[] = [
      { kind: 'sms', address: '+4915112345689' },
      { kind: 'sms', address: '+4915112345690' },
    ];
    await notifyAllChannels({ sms: sms.channel }, numbers, MESSAGE);
    await notifyAllChannels({ sms: sms.channel }, numbers, MESSAGE);
    const keys = sms.sent.map((message) => message.idempotencyKey);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys.slice(2)).toEqual(keys.slice(0, 2));
    for (const key of keys) {
      expect(key).toMatch(/^wf-recovery-1:notify-bound~[0-9a-f]{16}$/);
      expect(key).not.toContain('4915112345');
    }
    expect(deriveIdempotencyKey('k', 'email', 'Alice@Example.com')).toBe(deriveIdempotencyKey('k', 'email', 'alice@example.com'));
    expect(deriveIdempotencyKey('k', 'webhook', 'Device-7')).not.toBe(deriveIdempotencyKey('k', 'webhook', 'device-7'));
  });

  it('sends once to an address listed twice and reports it at both positions', async () => {
    const email = fakeChannel('email');
    const results = await notifyAllChannels({ email: email.channel }, [ADDRESSES[0], { kind: 'email', address: 'ALICE@example.com' }], MESSAGE);
    expect(email.sent).toHaveLength(1);
    expect(results.map((result) => [result.index, result.outcome])).toEqual([
      [0, 'delivered'],
      [1, 'delivered'],
    ]);
  });

  it('resolves to no results for a user with no registered address', async () => {
    await expect(notifyAllChannels({}, [], MESSAGE)).resolves.toEqual([]);
  });

  it('S32: results hold no address and no secret, so an activity can return them into workflow history', async () => {
    const email = fakeChannel('email');
    const sms = fakeChannel('sms', () => {
      throw new NotificationError('recipient_rejected', 'the recipient is not a valid sms address', false, { channel: 'sms' });
    });
    const message: FanOutMessage = {
      templateId: 'recovery-cooling-off-started',
      variables: { endsAt: '2026-03-02T09:00:00Z', cancelUrl: 'https://tessera.example/c#token=v1.k.secret-token-part.mac' },
      idempotencyKey: 'wf-recovery-1:cooling-off',
      secret: true,
    };
    const results = await notifyAllChannels({ email: email.channel, sms: sms.channel }, ADDRESSES.slice(0, 2), message);
    const serialised = JSON.stringify(results);
    for (const forbidden of ['alice@example.com', '+4915112345689', 'secret-token-part']) expect(serialised).not.toContain(forbidden);
    expect(email.sent[0].variables).toEqual(message.variables);
  });
});
