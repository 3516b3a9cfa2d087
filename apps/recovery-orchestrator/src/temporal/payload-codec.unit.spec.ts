import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CryptoError, parseKeyRing } from '@tessera/crypto';
import { KEY_ID_METADATA, payloadKeyRingFrom, SEALED_ENCODING, SealingPayloadCodec } from './payload-codec';

const key = () => randomBytes(32).toString('base64');
const ring = (entries: string, current: string) => new SealingPayloadCodec(parseKeyRing(entries, current));
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const value = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const metadataText = (payload: Payload, name: string) => Buffer.from(payload.metadata?.[name] ?? new Uint8Array()).toString('utf8');

const input = { recoveryId: 'r-1', userId: 'user-4711', reason: 'lost phone, ticket HD-42' };

async function failure(promise: Promise<unknown>): Promise<CryptoError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CryptoError);
  return error as CryptoError;
}

describe('SealingPayloadCodec (S32)', () => {
  const k1 = key();
  const codec = ring(`k1:${k1}`, 'k1');

  it('S32: round trip: a sealed payload names its key, holds no plaintext, and decodes to the original (metadata included)', async () => {
    const original = [json(input), json(null), json(''), { metadata: { encoding: Buffer.from('binary/null') } }];
    const sealed = await codec.encode(original);
    expect(sealed).toHaveLength(4);
    for (const payload of sealed) {
      expect(metadataText(payload, 'encoding')).toBe(SEALED_ENCODING);
      expect(metadataText(payload, KEY_ID_METADATA)).toBe('k1');
      const raw = Buffer.from(payload.data ?? []).toString('latin1');
      expect(raw).not.toContain('user-4711');
      expect(raw).not.toContain('HD-42');
      expect(raw).not.toContain('json/plain');
    }
    const opened = await codec.decode(sealed);
    expect(value(opened[0])).toEqual(input);
    expect(value(opened[1])).toBeNull();
    expect(value(opened[2])).toBe('');
    expect(metadataText(opened[3], 'encoding')).toBe('binary/null');
  });

  it('S32: two seals of the same payload differ (fresh data key and nonce each time)', async () => {
    const [a, b] = await codec.encode([json(input), json(input)]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('S32: a tampered ciphertext, tag or wrapped key fails authentication', async () => {
    const [sealed] = await codec.encode([json(input)]);
    const data = Buffer.from(sealed.data!);
    for (const at of [2, data.byteLength - 20, data.byteLength - 1]) {
      const altered = Buffer.from(data);
      altered[at] ^= 0x01;
      const error = await failure(codec.decode([{ ...sealed, data: altered }]));
      expect(error.code).toBe('authentication_failed');
    }
  });

  it('S32: a truncated payload or a missing key id is malformed, not a crash', async () => {
    const [sealed] = await codec.encode([json(input)]);
    expect((await failure(codec.decode([{ ...sealed, data: Buffer.from(sealed.data!).subarray(0, 40) }]))).code).toBe('malformed_ciphertext');
    expect((await failure(codec.decode([{ metadata: { encoding: sealed.metadata!.encoding }, data: sealed.data }]))).code).toBe('malformed_ciphertext');
  });

  it('S32: a wrong key under the same id fails authentication', async () => {
    const [sealed] = await codec.encode([json(input)]);
    const impostor = ring(`k1:${key()}`, 'k1');
    expect((await failure(impostor.decode([sealed]))).code).toBe('authentication_failed');
  });

  it('S32: a payload relabelled with another key id of the ring fails authentication', async () => {
    const both = ring(`k1:${k1},k2:${key()}`, 'k1');
    const [sealed] = await both.encode([json(input)]);
    const relabelled = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    expect((await failure(both.decode([relabelled]))).code).toBe('authentication_failed');
  });

  it('S32: an unknown key id fails with a clear error that names the key id and the setting, and no key material', async () => {
    const [sealed] = await codec.encode([json(input)]);
    const other = ring(`k9:${key()}`, 'k9');
    const error = await failure(other.decode([sealed]));
    expect(error.code).toBe('unknown_key_id');
    expect(error.message).toContain("'k1'");
    expect(error.message).toContain('TEMPORAL_PAYLOAD_KEYS');
    expect(error.message).not.toContain(k1);
  });

  it('S32: rotation: the first key of the ring seals, older keys still open what they sealed', async () => {
    const [old] = await codec.encode([json(input)]);
    const k2 = key();
    const rotated = new SealingPayloadCodec(payloadKeyRingFrom(`k2:${k2}, k1:${k1}`, 'production'));
    const [fresh] = await rotated.encode([json(input)]);
    expect(metadataText(fresh, KEY_ID_METADATA)).toBe('k2');
    expect((await rotated.decode([old, fresh])).map(value)).toEqual([input, input]);
    // A worker still on the old ring cannot read the new payloads, and says so.
    expect((await failure(codec.decode([fresh]))).code).toBe('unknown_key_id');
  });

  it('R4: payloads written before the codec (not sealed) pass through unchanged, so recorded histories replay', async () => {
    const plain = json(input);
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });
});

describe('TEMPORAL_PAYLOAD_KEYS', () => {
  it('is required in production', () => {
    expect(() => payloadKeyRingFrom(undefined, 'production')).toThrow('TEMPORAL_PAYLOAD_KEYS is required in production');
  });

  it('has a fixed development key elsewhere, so workflows survive a restart', async () => {
    const [sealed] = await new SealingPayloadCodec(payloadKeyRingFrom(undefined, 'development')).encode([json(input)]);
    expect(value((await new SealingPayloadCodec(payloadKeyRingFrom(undefined, 'test')).decode([sealed]))[0])).toEqual(input);
  });

  it('refuses a malformed ring without quoting the key', () => {
    const short = randomBytes(16).toString('base64');
    let message = '';
    try {
      payloadKeyRingFrom(`k1:${short}`, 'production');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/invalid key ring/);
    expect(message).not.toContain(short);
  });
});
