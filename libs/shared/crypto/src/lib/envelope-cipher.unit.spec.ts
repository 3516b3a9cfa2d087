import crypto, { randomBytes } from 'node:crypto';
import { parseKeyRing } from './configured-key-ring';
import { CryptoError, type CryptoErrorCode } from './crypto-error';
import { type EncryptionContext, EnvelopeCipher } from './envelope-cipher';
import { parseEnvelope, serializeEnvelope } from './envelope-format';
import { type KeyEncryptionService, type WrappedKey } from './key-encryption-service';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const entry1 = `k2025-01:${k1.toString('base64')}`;
const entry2 = `k2026-06:${k2.toString('base64')}`;

const cipherFor = (config: string, current: string) => new EnvelopeCipher(parseKeyRing(config, current));
const context: EncryptionContext = {
  userId: '0190f1c2-0000-7000-8000-000000000001',
  credentialId: '0190f1c2-0000-7000-8000-0000000000c1',
  purpose: 'totp-seed',
};
const seed = Buffer.from('12345678901234567890'); // RFC 6238 Appendix B SHA-1 seed

async function failure(run: () => Promise<unknown>): Promise<CryptoError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }
  throw new Error('expected a CryptoError');
}

/** Flips one bit of the decoded bytes of a v1 ciphertext. */
function flipByte(ciphertext: string, index: number): string {
  const bytes = Buffer.from(ciphertext.slice(3), 'base64url');
  bytes[index] ^= 0x01;
  return `v1.${bytes.toString('base64url')}`;
}

describe('EnvelopeCipher', () => {
  const cipher = cipherFor(entry1, 'k2025-01');

  describe('encrypt and decrypt', () => {
    it('S28: a secret decrypts to itself under the same context', async () => {
      const ciphertext = await cipher.encrypt(seed, context);
      await expect(cipher.decrypt(ciphertext, context)).resolves.toEqual(seed);
    });

    it('S28: round trips empty and long secrets', async () => {
      for (const secret of [Buffer.alloc(0), randomBytes(64), randomBytes(5000)]) {
        await expect(cipher.decrypt(await cipher.encrypt(secret, context), context)).resolves.toEqual(secret);
      }
    });

    it('S28: two encryptions of the same secret differ in data key, nonce and body', async () => {
      const a = parseEnvelope(await cipher.encrypt(seed, context));
      const b = parseEnvelope(await cipher.encrypt(seed, context));
      expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
      expect(a.nonce.equals(b.nonce)).toBe(false);
      expect(a.body.equals(b.body)).toBe(false);
    });

    it('S28: the ciphertext carries the id of the KEK that wrapped its data key', async () => {
      expect(parseEnvelope(await cipher.encrypt(seed, context)).keyId).toBe('k2025-01');
    });

    it('S29: the stored text holds the secret in no common encoding', async () => {
      const ciphertext = await cipher.encrypt(seed, context);
      for (const encoding of ['utf8', 'hex', 'base64', 'base64url'] as const) {
        expect(ciphertext).not.toContain(seed.toString(encoding));
      }
      expect(Buffer.from(ciphertext.slice(3), 'base64url').includes(seed)).toBe(false);
    });

    it('S28: refuses an empty or ill-formed context field (a caller bug) with TypeError', async () => {
      await expect(cipher.encrypt(seed, { ...context, userId: '' })).rejects.toThrow(TypeError);
      await expect(cipher.encrypt(seed, { ...context, purpose: '\ud800' })).rejects.toThrow(TypeError);
      const ciphertext = await cipher.encrypt(seed, context);
      await expect(cipher.decrypt(ciphertext, { ...context, credentialId: '' })).rejects.toThrow(TypeError);
    });
  });

  describe('associated data', () => {
    const moved: [string, EncryptionContext][] = [
      ['another credential', { ...context, credentialId: '0190f1c2-0000-7000-8000-0000000000c2' }],
      ['another user', { ...context, userId: '0190f1c2-0000-7000-8000-000000000002' }],
      ['another purpose', { ...context, purpose: 'email-otp-key' }],
      ['user and credential swapped', { ...context, userId: context.credentialId, credentialId: context.userId }],
    ];

    it.each(moved)('S28: a ciphertext moved to %s fails with authentication_failed', async (_name, other) => {
      const ciphertext = await cipher.encrypt(seed, context);
      expect((await failure(() => cipher.decrypt(ciphertext, other))).code).toBe('authentication_failed');
    });

    it('S28: fields cannot trade characters (length-prefixed, not concatenated)', async () => {
      const ciphertext = await cipher.encrypt(seed, { purpose: 'totp', userId: 'u1', credentialId: 'c1' });
      const shifted = { purpose: 'totpu', userId: '1', credentialId: 'c1' };
      expect((await failure(() => cipher.decrypt(ciphertext, shifted))).code).toBe('authentication_failed');
    });
  });

  describe('tampering', () => {
    const twoKeys = cipherFor(`${entry1},${entry2}`, 'k2025-01');
    // Offsets for the key id 'k2025-01' (8 bytes): see the layout in envelope-format.ts.
    const parts: [string, number][] = [
      ['wrapped key', 12 + 30],
      ['nonce', 72 + 5],
      ['tag', 84 + 7],
      ['body', 104 + 3],
    ];

    it.each(parts)('S28: a flipped bit in the %s fails with authentication_failed', async (_part, offset) => {
      const ciphertext = await twoKeys.encrypt(seed, context);
      const error = await failure(() => twoKeys.decrypt(flipByte(ciphertext, offset), context));
      expect(error.code).toBe('authentication_failed');
    });

    it('S28: a key id changed to one not in the ring fails with unknown_key_id', async () => {
      const ciphertext = await twoKeys.encrypt(seed, context);
      const error = await failure(() => twoKeys.decrypt(flipByte(ciphertext, 2 + 7), context)); // k2025-01 → k2025-00
      expect(error.code).toBe('unknown_key_id');
      expect(error.message).toContain("'k2025-00'");
    });

    it('S28: a key id changed to another key of the ring fails with authentication_failed', async () => {
      const envelope = parseEnvelope(await twoKeys.encrypt(seed, context));
      const relabelled = serializeEnvelope({ ...envelope, keyId: 'k2026-06' });
      expect((await failure(() => twoKeys.decrypt(relabelled, context))).code).toBe('authentication_failed');
    });

    it('S28: no single flipped bit anywhere yields a plaintext', async () => {
      const ciphertext = await twoKeys.encrypt(seed, context);
      const length = Buffer.from(ciphertext.slice(3), 'base64url').length;
      const codes = new Set<CryptoErrorCode>();
      for (let index = 0; index < length; index++) {
        codes.add((await failure(() => twoKeys.decrypt(flipByte(ciphertext, index), context))).code);
      }
      expect([...codes].sort()).toEqual(['authentication_failed', 'malformed_ciphertext', 'unknown_key_id']);
    });

    it('S28: a payload spliced from another ciphertext fails with authentication_failed', async () => {
      const a = parseEnvelope(await twoKeys.encrypt(seed, context));
      const b = parseEnvelope(await twoKeys.encrypt(seed, context));
      const spliced = serializeEnvelope({ ...a, nonce: b.nonce, tag: b.tag, body: b.body });
      expect((await failure(() => twoKeys.decrypt(spliced, context))).code).toBe('authentication_failed');
    });

    it('S28: truncated or garbage input fails with malformed_ciphertext', async () => {
      const ciphertext = await twoKeys.encrypt(seed, context);
      for (const input of [ciphertext.slice(0, -4), ciphertext.slice(0, 40), 'v1.', '', 'JBSWY3DPEHPK3PXP', `${ciphertext}AAAA`]) {
        expect((await failure(() => twoKeys.decrypt(input, context))).code).toBe('malformed_ciphertext');
      }
    });

    it('S28: a ciphertext from a later format version fails with unsupported_version', async () => {
      const ciphertext = await twoKeys.encrypt(seed, context);
      expect((await failure(() => twoKeys.decrypt(`v2.${ciphertext.slice(3)}`, context))).code).toBe('unsupported_version');
    });
  });

  describe('key rotation', () => {
    it('S28: encrypt under k1, make k2 current, rewrap, drop k1, and still decrypt', async () => {
      const before = cipherFor(entry1, 'k2025-01');
      const during = cipherFor(`${entry1},${entry2}`, 'k2026-06');
      const after = cipherFor(entry2, 'k2026-06');

      const original = await before.encrypt(seed, context);
      await expect(during.decrypt(original, context)).resolves.toEqual(seed); // old ids keep working
      expect(await during.needsRewrap(original)).toBe(true);

      const rewrapped = await during.rewrap(original);
      expect(parseEnvelope(rewrapped).keyId).toBe('k2026-06');
      expect(await during.needsRewrap(rewrapped)).toBe(false);
      await expect(during.decrypt(rewrapped, context)).resolves.toEqual(seed);

      await expect(after.decrypt(rewrapped, context)).resolves.toEqual(seed);
      expect((await failure(() => after.decrypt(original, context))).code).toBe('unknown_key_id');
    });

    it('S28: rewrap replaces only the key id and wrapped key; nonce, tag and body are untouched', async () => {
      const original = await cipherFor(entry1, 'k2025-01').encrypt(seed, context);
      const rewrapped = await cipherFor(`${entry1},${entry2}`, 'k2026-06').rewrap(original);
      const [a, b] = [parseEnvelope(original), parseEnvelope(rewrapped)];
      expect(b.keyId).not.toBe(a.keyId);
      expect(b.wrappedKey.equals(a.wrappedKey)).toBe(false);
      expect([b.nonce, b.tag, b.body]).toEqual([a.nonce, a.tag, a.body]);
    });

    it('S28: rewrap needs no context and keeps the binding: the result still fails in another context', async () => {
      const during = cipherFor(`${entry1},${entry2}`, 'k2026-06');
      const rewrapped = await during.rewrap(await cipherFor(entry1, 'k2025-01').encrypt(seed, context));
      const error = await failure(() => during.decrypt(rewrapped, { ...context, userId: 'someone-else' }));
      expect(error.code).toBe('authentication_failed');
    });

    it('S28: rewrap of a ciphertext already under the current key returns it unchanged', async () => {
      const during = cipherFor(`${entry1},${entry2}`, 'k2026-06');
      const current = await during.encrypt(seed, context);
      expect(await during.needsRewrap(current)).toBe(false);
      expect(await during.rewrap(current)).toBe(current);
    });

    it('S28: rewrap under a key no longer in the ring fails with unknown_key_id', async () => {
      const original = await cipherFor(entry1, 'k2025-01').encrypt(seed, context);
      expect((await failure(() => cipherFor(entry2, 'k2026-06').rewrap(original))).code).toBe('unknown_key_id');
    });

    it('S28: needsRewrap and rewrap reject malformed input with malformed_ciphertext', async () => {
      const during = cipherFor(`${entry1},${entry2}`, 'k2026-06');
      expect((await failure(() => during.needsRewrap('garbage'))).code).toBe('malformed_ciphertext');
      expect((await failure(() => during.rewrap('v1.AAAA'))).code).toBe('malformed_ciphertext');
    });
  });

  describe('error messages', () => {
    it('S30: contain no plaintext, key material or ciphertext', async () => {
      const during = cipherFor(`${entry1},${entry2}`, 'k2025-01');
      const ciphertext = await during.encrypt(seed, context);
      const envelope = parseEnvelope(ciphertext);
      const errors = await Promise.all([
        failure(() => during.decrypt(ciphertext, { ...context, userId: 'other' })),
        failure(() => during.decrypt(flipByte(ciphertext, 90), context)),
        failure(() => during.decrypt(flipByte(ciphertext, 40), context)),
        failure(() => during.decrypt(flipByte(ciphertext, 9), context)),
        failure(() => during.decrypt(ciphertext.slice(0, -5), context)),
        failure(() => during.decrypt(`v7.${ciphertext.slice(3)}`, context)),
        failure(() => cipherFor(entry2, 'k2026-06').rewrap(ciphertext)),
      ]);
      const secrets = [seed, k1, k2, envelope.wrappedKey, envelope.nonce, envelope.tag, envelope.body];
      for (const error of errors) {
        for (const text of [error.message, String(error.stack)]) {
          for (let i = 3; i + 8 <= ciphertext.length; i++) expect(text).not.toContain(ciphertext.slice(i, i + 8));
          for (const secret of secrets) {
            for (const encoding of ['hex', 'base64', 'base64url', 'latin1'] as const) {
              const encoded = secret.toString(encoding);
              for (let i = 0; i + 8 <= encoded.length; i += 4) expect(text).not.toContain(encoded.slice(i, i + 8));
            }
          }
        }
      }
    });
  });

  describe('cost', () => {
    afterEach(() => jest.restoreAllMocks());

    it('S28: decrypt runs one unwrap and exactly two AES-GCM operations, and no KDF', async () => {
      const ciphertext = await cipher.encrypt(seed, context);
      const deciphers = jest.spyOn(crypto, 'createDecipheriv');
      const ciphers = jest.spyOn(crypto, 'createCipheriv');
      const kdfs = ['pbkdf2', 'pbkdf2Sync', 'scrypt', 'scryptSync', 'hkdf', 'hkdfSync'] as const;
      const kdfSpies = kdfs.map((name) => jest.spyOn(crypto, name));
      await cipher.decrypt(ciphertext, context);
      expect(deciphers).toHaveBeenCalledTimes(2);
      expect(deciphers.mock.calls.map(([algorithm]) => algorithm)).toEqual(['aes-256-gcm', 'aes-256-gcm']);
      expect(ciphers).not.toHaveBeenCalled();
      for (const spy of kdfSpies) expect(spy).not.toHaveBeenCalled();
    });
  });

  describe('with another KeyEncryptionService', () => {
    /** A KMS stand-in: returns an opaque handle as the "wrapped key" and an ARN-like key id. */
    class HandleKms implements KeyEncryptionService {
      readonly held = new Map<string, Buffer>();
      unwraps = 0;
      constructor(private readonly keyId: string) {}
      async currentKeyId(): Promise<string> {
        return this.keyId;
      }
      async wrapKey(dataKey: Buffer): Promise<WrappedKey> {
        const handle = randomBytes(24);
        this.held.set(handle.toString('hex'), Buffer.from(dataKey));
        return { keyId: this.keyId, wrappedKey: handle };
      }
      async unwrapKey(keyId: string, wrappedKey: Buffer): Promise<Buffer> {
        this.unwraps++;
        const dataKey = this.held.get(wrappedKey.toString('hex'));
        if (keyId !== this.keyId || !dataKey) throw new CryptoError('unknown_key_id', 'no such key');
        return Buffer.from(dataKey);
      }
    }

    it('S28: works through the port alone, with KMS-sized ids and wrapped keys, one unwrap per decrypt', async () => {
      const kms = new HandleKms('arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
      const viaKms = new EnvelopeCipher(kms);
      const ciphertext = await viaKms.encrypt(seed, context);
      expect(parseEnvelope(ciphertext).wrappedKey).toHaveLength(24);
      await expect(viaKms.decrypt(ciphertext, context)).resolves.toEqual(seed);
      expect(kms.unwraps).toBe(1);
    });

    it('S28: the data key handed to the KEK service is fresh per secret and not used after', async () => {
      const kms = new HandleKms('k');
      const viaKms = new EnvelopeCipher(kms);
      await viaKms.encrypt(seed, context);
      await viaKms.encrypt(seed, context);
      const [a, b] = [...kms.held.values()];
      expect(a).toHaveLength(32);
      expect(a.equals(b)).toBe(false);
    });
  });
});
