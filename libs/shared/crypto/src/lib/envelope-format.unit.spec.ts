import { randomBytes } from 'node:crypto';
import { CryptoError } from './crypto-error';
import { type Envelope, parseEnvelope, serializeEnvelope } from './envelope-format';

const envelope: Envelope = {
  keyId: 'k2026-06',
  wrappedKey: randomBytes(60),
  nonce: randomBytes(12),
  tag: randomBytes(16),
  body: randomBytes(20),
};

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
  throw new Error('expected a CryptoError');
}

const bytesOf = (text: string) => Buffer.from(text.slice(3), 'base64url');
const textOf = (bytes: Buffer) => `v1.${bytes.toString('base64url')}`;

describe('envelope format v1', () => {
  it('S28: is "v1." then unpadded base64url, ASCII only, fit for a TEXT column', () => {
    const text = serializeEnvelope(envelope);
    expect(text).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(text).toHaveLength(169); // the size the format comment gives for a 20-byte seed
  });

  it('S28: lays out version, key id, wrapped key, nonce, tag, length and body as documented', () => {
    const bytes = bytesOf(serializeEnvelope(envelope));
    expect(bytes[0]).toBe(1);
    expect(bytes[1]).toBe(8);
    expect(bytes.toString('latin1', 2, 10)).toBe('k2026-06');
    expect(bytes.readUInt16BE(10)).toBe(60);
    expect(bytes.subarray(12, 72)).toEqual(envelope.wrappedKey);
    expect(bytes.subarray(72, 84)).toEqual(envelope.nonce);
    expect(bytes.subarray(84, 100)).toEqual(envelope.tag);
    expect(bytes.readUInt32BE(100)).toBe(20);
    expect(bytes.subarray(104)).toEqual(envelope.body);
  });

  it('S28: parses back every part', () => {
    expect(parseEnvelope(serializeEnvelope(envelope))).toEqual(envelope);
  });

  it('S28: carries an empty payload and KMS-style key ids and wrapped keys', () => {
    const kms: Envelope = {
      ...envelope,
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      wrappedKey: randomBytes(184),
      body: Buffer.alloc(0),
    };
    expect(parseEnvelope(serializeEnvelope(kms))).toEqual(kms);
  });

  it('S28: an unknown format version is unsupported_version', () => {
    const text = serializeEnvelope(envelope);
    expect(codeOf(() => parseEnvelope(`v2.${text.slice(3)}`))).toBe('unsupported_version');
    expect(codeOf(() => parseEnvelope(`v10.${text.slice(3)}`))).toBe('unsupported_version');
  });

  it('S28: a version byte that disagrees with the prefix is malformed_ciphertext', () => {
    const bytes = bytesOf(serializeEnvelope(envelope));
    bytes[0] = 2;
    expect(codeOf(() => parseEnvelope(textOf(bytes)))).toBe('malformed_ciphertext');
  });

  it('S28: every truncation, and any extension, is malformed_ciphertext', () => {
    const text = serializeEnvelope(envelope);
    for (let length = 0; length < text.length; length++) {
      expect([length, codeOf(() => parseEnvelope(text.slice(0, length)))]).toEqual([length, 'malformed_ciphertext']);
    }
    expect(codeOf(() => parseEnvelope(textOf(Buffer.concat([bytesOf(text), Buffer.from([0])]))))).toBe('malformed_ciphertext');
  });

  it.each([
    ['a non-string', null],
    ['an empty string', ''],
    ['plain text', 'JBSWY3DPEHPK3PXP'],
    ['no payload', 'v1.'],
    ['padded base64url', `${serializeEnvelope(envelope)}==`],
    ['standard base64 characters', `v1.${'+/'.repeat(60)}`],
    ['a leading-zero version', `v01.${serializeEnvelope(envelope).slice(3)}`],
    ['random bytes', `v1.${randomBytes(120).toString('base64url')}`],
    ['a zero-length key id', `v1.${Buffer.concat([Buffer.from([1, 0]), randomBytes(100)]).toString('base64url')}`],
  ])('S28: %s is malformed_ciphertext', (_name, input) => {
    expect(codeOf(() => parseEnvelope(input as string))).toBe('malformed_ciphertext');
  });

  it('S28: a non-canonical base64url form of valid bytes is malformed_ciphertext', () => {
    const text = serializeEnvelope(envelope); // 124 bytes: the last character carries 4 pad bits
    const last = text.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const stray = alphabet[alphabet.indexOf(last) + 1];
    expect(Buffer.from(text.slice(3, -1) + stray, 'base64url')).toEqual(bytesOf(text));
    expect(codeOf(() => parseEnvelope(text.slice(0, -1) + stray))).toBe('malformed_ciphertext');
  });

  it('S28: a key id with control characters is malformed_ciphertext', () => {
    const bytes = bytesOf(serializeEnvelope(envelope));
    bytes[2] = 0x0a;
    expect(codeOf(() => parseEnvelope(textOf(bytes)))).toBe('malformed_ciphertext');
  });

  it('S28: refuses to write a key id or wrapped key the format cannot carry', () => {
    expect(codeOf(() => serializeEnvelope({ ...envelope, keyId: '' }))).toBe('invalid_key_ring');
    expect(codeOf(() => serializeEnvelope({ ...envelope, keyId: 'k'.repeat(256) }))).toBe('invalid_key_ring');
    expect(codeOf(() => serializeEnvelope({ ...envelope, keyId: 'clé' }))).toBe('invalid_key_ring');
    expect(codeOf(() => serializeEnvelope({ ...envelope, wrappedKey: Buffer.alloc(0) }))).toBe('invalid_key_ring');
  });
});
