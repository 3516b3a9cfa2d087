import { randomBytes } from 'node:crypto';
import { open, seal } from './aes-gcm';

describe('AES-256-GCM helpers', () => {
  const key = randomBytes(32);
  const aad = Buffer.from('context');
  const plaintext = Buffer.from('12345678901234567890');

  it('S28: opens what it sealed, under the same key and associated data only', () => {
    const sealed = seal(key, plaintext, aad);
    expect(sealed.nonce).toHaveLength(12);
    expect(sealed.tag).toHaveLength(16);
    expect(open(key, sealed, aad)).toEqual(plaintext);
    expect(open(randomBytes(32), sealed, aad)).toBeUndefined();
    expect(open(key, sealed, Buffer.from('contexu'))).toBeUndefined();
  });

  it('S28: refuses a truncated tag, which Node would otherwise accept down to 4 bytes (SP 800-38D App. C)', () => {
    const sealed = seal(key, plaintext, aad);
    for (const length of [4, 8, 12, 15]) {
      expect(open(key, { ...sealed, tag: sealed.tag.subarray(0, length) }, aad)).toBeUndefined();
    }
  });

  it('S28: uses a fresh nonce for every seal', () => {
    const nonces = new Set(Array.from({ length: 1000 }, () => seal(key, plaintext, aad).nonce.toString('hex')));
    expect(nonces.size).toBe(1000);
  });
});
