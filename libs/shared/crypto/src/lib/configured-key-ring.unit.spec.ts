import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfiguredKeyRing, parseKeyRing } from './configured-key-ring';
import { CryptoError } from './crypto-error';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const b64 = (key: Buffer) => key.toString('base64');
const ringConfig = `k2025-01:${b64(k1)},k2026-06:${b64(k2)}`;

/** Every way a key could show up in text: whole, or any 8-character run of its encodings. */
function expectNoKeyMaterial(text: string, ...keys: Buffer[]): void {
  for (const key of keys) {
    for (const encoded of [key.toString('base64'), key.toString('base64url'), key.toString('hex')]) {
      for (let i = 0; i + 8 <= encoded.length; i++) expect(text).not.toContain(encoded.slice(i, i + 8));
    }
  }
}

function caught(run: () => unknown): CryptoError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }
  throw new Error('expected a CryptoError');
}

async function caughtAsync(run: () => Promise<unknown>): Promise<CryptoError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }
  throw new Error('expected a CryptoError');
}

describe('parseKeyRing', () => {
  it('S28: reads id:base64 entries and the current key id', async () => {
    const ring = parseKeyRing(ringConfig, 'k2026-06');
    expect(ring.keyIds()).toEqual(['k2025-01', 'k2026-06']);
    await expect(ring.currentKeyId()).resolves.toBe('k2026-06');
  });

  it('tolerates whitespace and line breaks around entries', () => {
    const ring = parseKeyRing(`\n  k2025-01:${b64(k1)} ,\n  k2026-06:${b64(k2)}\n`, 'k2025-01');
    expect(ring.keyIds()).toEqual(['k2025-01', 'k2026-06']);
  });

  it.each([
    ['an empty configuration', '', 'k1', /configuration is empty/],
    ['an empty entry (trailing comma)', `k1:${b64(k1)},`, 'k1', /entry 2 is empty/],
    ['an entry without a separator', `k1:${b64(k1)},${b64(k2)}`, 'k1', /entry 2 has no ':'/],
    ['an id with a forbidden character', `k 1:${b64(k1)}`, 'k 1', /entry 1 has a key id that is not/],
    ['an id longer than 32 characters', `${'k'.repeat(33)}:${b64(k1)}`, 'k1', /entry 1 has a key id that is not/],
    ['an empty id', `:${b64(k1)}`, 'k1', /entry 1 has a key id that is not/],
    ['a 16-byte key', `k1:${b64(randomBytes(16))}`, 'k1', /key 'k1' is not standard base64 of exactly 32 bytes/],
    ['a 33-byte key', `k1:${b64(randomBytes(33))}`, 'k1', /key 'k1' is not standard base64 of exactly 32 bytes/],
    ['a base64url key', `k1:${k1.toString('base64url')}`, 'k1', /key 'k1' is not standard base64/],
    ['a hex key', `k1:${k1.toString('hex')}`, 'k1', /key 'k1' is not standard base64/],
    ['a duplicate id', `k1:${b64(k1)},k1:${b64(k2)}`, 'k1', /key id 'k1' appears more than once/],
    ['the same key under two ids', `k1:${b64(k1)},k2:${b64(k1)}`, 'k1', /keys 'k1' and 'k2' are the same key/],
    ['a current key that is not in the ring', ringConfig, 'k2027-01', /current key id 'k2027-01' is not one of the keys/],
  ])('S28: rejects %s with invalid_key_ring and a message that names the problem', (_name, config, current, message) => {
    const error = caught(() => parseKeyRing(config, current));
    expect(error.code).toBe('invalid_key_ring');
    expect(error.message).toMatch(message);
  });

  it('S28: rejects a non-canonical base64 key (stray bits in the last character)', () => {
    const canonical = b64(k1);
    const last = canonical[42];
    const stray = String.fromCharCode(last.charCodeAt(0) + 1); // sets a pad bit in the last sextet
    expect(caught(() => parseKeyRing(`k1:${canonical.slice(0, 42)}${stray}=`, 'k1')).code).toBe('invalid_key_ring');
  });

  it.each([
    ['key and id swapped', `${b64(k1)}:k1`, 'k1'],
    ['separator missing', `k1${b64(k1)}`, 'k1'],
    ['separator missing, no id', b64(k1), 'k1'],
    ['key pasted as the current id', `k1:${b64(k1)}`, b64(k1)],
    ['key cut short', `k1:${b64(k1).slice(0, 40)}`, 'k1'],
    ['key with a space inside', `k1:${b64(k1).slice(0, 20)} ${b64(k1).slice(20)}`, 'k1'],
    ['key in base64url', `k1:${k1.toString('base64url')}`, 'k1'],
    ['same key twice', `k1:${b64(k1)},k2:${b64(k1)}`, 'k1'],
  ])('S28: error messages contain no key material (%s)', (_name, config, current) => {
    const error = caught(() => parseKeyRing(config, current));
    expect(error.code).toBe('invalid_key_ring');
    expectNoKeyMaterial(error.message, k1);
    expectNoKeyMaterial(String(error.stack), k1);
  });
});

describe('ConfiguredKeyRing', () => {
  const ring = parseKeyRing(ringConfig, 'k2026-06');

  it('S28: wraps under the current key, and the wrap unwraps to the same data key', async () => {
    const dataKey = randomBytes(32);
    const wrapped = await ring.wrapKey(dataKey);
    expect(wrapped.keyId).toBe('k2026-06');
    expect(wrapped.wrappedKey).toHaveLength(60);
    expect(wrapped.wrappedKey.includes(dataKey)).toBe(false);
    await expect(ring.unwrapKey(wrapped.keyId, wrapped.wrappedKey)).resolves.toEqual(dataKey);
  });

  it('S28: still unwraps data keys wrapped under an older key in the ring', async () => {
    const dataKey = randomBytes(32);
    const old = await parseKeyRing(ringConfig, 'k2025-01').wrapKey(dataKey);
    expect(old.keyId).toBe('k2025-01');
    await expect(ring.unwrapKey(old.keyId, old.wrappedKey)).resolves.toEqual(dataKey);
  });

  it('S28: refuses a key id it does not hold with unknown_key_id', async () => {
    const { wrappedKey } = await ring.wrapKey(randomBytes(32));
    const error = await caughtAsync(() => ring.unwrapKey('k2020-01', wrappedKey));
    expect(error.code).toBe('unknown_key_id');
    expect(error.message).toContain("'k2020-01'");
  });

  it('S28: binds the wrap to the key id: the same key under another id does not unwrap it', async () => {
    const underA = new ConfiguredKeyRing([{ id: 'a', key: k1 }], 'a');
    const underB = new ConfiguredKeyRing([{ id: 'b', key: k1 }], 'b');
    const dataKey = randomBytes(32);
    const { wrappedKey } = await underA.wrapKey(dataKey);
    await expect(underA.unwrapKey('a', wrappedKey)).resolves.toEqual(dataKey);
    expect((await caughtAsync(() => underB.unwrapKey('b', wrappedKey))).code).toBe('authentication_failed');
  });

  it('S28: a wrap tampered in any byte fails with authentication_failed', async () => {
    const { keyId, wrappedKey } = await ring.wrapKey(randomBytes(32));
    for (let i = 0; i < wrappedKey.length; i++) {
      const tampered = Buffer.from(wrappedKey);
      tampered[i] ^= 0x01;
      expect((await caughtAsync(() => ring.unwrapKey(keyId, tampered))).code).toBe('authentication_failed');
    }
  });

  it('S28: a wrap under one key does not unwrap under another key of the ring', async () => {
    const { wrappedKey } = await ring.wrapKey(randomBytes(32));
    expect((await caughtAsync(() => ring.unwrapKey('k2025-01', wrappedKey))).code).toBe('authentication_failed');
  });

  it('S28: a wrap of the wrong length is malformed_ciphertext', async () => {
    const { keyId, wrappedKey } = await ring.wrapKey(randomBytes(32));
    expect((await caughtAsync(() => ring.unwrapKey(keyId, wrappedKey.subarray(1)))).code).toBe('malformed_ciphertext');
  });

  it('S28: wraps only 256-bit data keys', async () => {
    await expect(ring.wrapKey(randomBytes(16))).rejects.toThrow(RangeError);
  });

  it('S28: two wraps of the same data key differ (fresh nonce per wrap)', async () => {
    const dataKey = randomBytes(32);
    const [a, b] = await Promise.all([ring.wrapKey(dataKey), ring.wrapKey(dataKey)]);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
  });

  it('S30: neither JSON nor util.inspect of a ring shows key material', () => {
    expectNoKeyMaterial(JSON.stringify(ring), k1, k2);
    expectNoKeyMaterial(inspect(ring, { depth: 10, showHidden: true }), k1, k2);
  });

  it('S28: the constructor validates like the parser', () => {
    expect(caught(() => new ConfiguredKeyRing([], 'k1')).code).toBe('invalid_key_ring');
    expect(caught(() => new ConfiguredKeyRing([{ id: 'k1', key: k1.subarray(0, 31) }], 'k1')).message).toMatch(/31 bytes/);
    expect(caught(() => new ConfiguredKeyRing([{ id: 'k/1', key: k1 }], 'k/1')).code).toBe('invalid_key_ring');
    expect(caught(() => new ConfiguredKeyRing([{ id: 'k1', key: k1 }], 'k2')).code).toBe('invalid_key_ring');
  });

  it('does not quote a current key id that is not a valid id', () => {
    const error = caught(() => new ConfiguredKeyRing([{ id: 'k1', key: k1 }], '<script>'));
    expect(error.message).not.toContain('<script>');
  });
});
