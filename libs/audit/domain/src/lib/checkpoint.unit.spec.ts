import { generateKeyPairSync } from 'node:crypto';
import { createCheckpoint, checkpointMessage, isCheckpointDue, parseCheckpointPolicy, verifyCheckpointSignature } from './checkpoint';
import { GENESIS_HASH } from './hash-chain';
import { parseCheckpointSigner, parseEd25519PrivateKey, parseEd25519PublicKey, parsePublicKeyRing, rawPublicKey, SigningKeyError } from './signing-keys';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
const rawPublic = rawPublicKey(publicKey);

function errorOf(run: () => unknown): SigningKeyError {
  try {
    run();
  } catch (error) {
    if (error instanceof SigningKeyError) return error;
    throw error;
  }
  throw new Error('expected a SigningKeyError');
}

describe('checkpoint signing keys (RFC 8032 Ed25519)', () => {
  it('reads a private key from PKCS#8 PEM, raw 32-byte base64, base64url and 64-byte seed+public', () => {
    for (const text of [privatePem, seed.toString('base64'), seed.toString('base64url'), Buffer.concat([seed, rawPublic]).toString('base64')]) {
      const key = parseEd25519PrivateKey(text);
      expect(rawPublicKey(key).equals(rawPublic)).toBe(true);
      const signer = { keyId: 'k', privateKey: key };
      const cp = createCheckpoint({ previousToPosition: 0, head: { position: 1, hash: GENESIS_HASH }, createdAt: '2025-01-01T00:00:00Z' }, signer);
      expect(verifyCheckpointSignature(cp, new Map([['k', publicKey]]))).toBe('valid');
    }
  });

  it('reads a public key from SPKI PEM and raw base64', () => {
    expect(rawPublicKey(parseEd25519PublicKey(publicPem)).equals(rawPublic)).toBe(true);
    expect(rawPublicKey(parseEd25519PublicKey(rawPublic.toString('base64'))).equals(rawPublic)).toBe(true);
  });

  it.each([
    ['an empty value', () => parseEd25519PrivateKey('  '), 'key_missing'],
    ['a public key where a private one belongs', () => parseEd25519PrivateKey(publicPem), 'key_wrong_type'],
    ['a private key where a public one belongs', () => parseEd25519PublicKey(privatePem), 'key_wrong_type'],
    ['garbage', () => parseEd25519PrivateKey('not a key!'), 'key_not_parsable'],
    ['a broken PEM', () => parseEd25519PrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'), 'key_not_parsable'],
    ['a 16-byte raw key', () => parseEd25519PrivateKey(seed.subarray(0, 16).toString('base64')), 'key_wrong_length'],
    ['a 31-byte raw public key', () => parseEd25519PublicKey(rawPublic.subarray(1).toString('base64')), 'key_wrong_length'],
    ['a 64-byte key whose halves do not match', () => parseEd25519PrivateKey(Buffer.concat([seed, Buffer.alloc(32)]).toString('base64')), 'key_pair_mismatch'],
    [
      'an RSA key',
      () => parseEd25519PrivateKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
      'key_wrong_algorithm',
    ],
    ['a key id that could be key material', () => parseCheckpointSigner({ keyId: seed.toString('base64'), privateKey: privatePem }), 'key_id_invalid'],
  ])('refuses %s with a clear error code', (_name, run, code) => {
    expect(errorOf(run as () => unknown).code).toBe(code);
  });

  it('S30: key errors never quote the key', () => {
    const inputs = [Buffer.concat([seed, Buffer.alloc(32)]).toString('base64'), seed.subarray(0, 16).toString('base64'), privatePem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')];
    for (const input of inputs) {
      const error = errorOf(() => parseEd25519PrivateKey(input));
      expect(error.message).not.toContain(input.slice(0, 12));
      expect(error.message).not.toContain(seed.toString('base64').slice(0, 12));
    }
  });

  it('builds a public key ring from configuration and names the entry at fault', () => {
    const ring = parsePublicKeyRing({ 'cp-2025': publicPem, 'cp-2024': rawPublic.toString('base64url') });
    expect([...ring.keys()]).toEqual(['cp-2025', 'cp-2024']);
    expect(errorOf(() => parsePublicKeyRing({ 'cp-2026': 'nope!' })).message).toContain('cp-2026');
  });
});

describe('signed checkpoints (R8)', () => {
  const signer = { keyId: 'cp-1', privateKey };
  const ring = new Map([['cp-1', publicKey]]);
  const head = { position: 200, hash: 'a'.repeat(64) };

  it('R8: a checkpoint covers the records since the previous one and verifies under its key', () => {
    const cp = createCheckpoint({ previousToPosition: 100, head, createdAt: '2025-03-01T08:00:00.000Z' }, signer);
    expect(cp).toMatchObject({ fromPosition: 101, toPosition: 200, recordCount: 100, headHash: head.hash, keyId: 'cp-1' });
    expect(verifyCheckpointSignature(cp, ring)).toBe('valid');
  });

  it('R8: changing any signed field invalidates the signature', () => {
    const cp = createCheckpoint({ previousToPosition: 100, head, createdAt: '2025-03-01T08:00:00.000Z' }, signer);
    for (const change of [{ toPosition: 201 }, { fromPosition: 1 }, { recordCount: 99 }, { headHash: 'b'.repeat(64) }, { createdAt: '2025-03-01T08:00:01.000Z' }]) {
      expect(verifyCheckpointSignature({ ...cp, ...change }, ring)).toBe('invalid');
    }
    expect(verifyCheckpointSignature({ ...cp, keyId: 'cp-0' }, ring)).toBe('unknown_key');
    expect(verifyCheckpointSignature({ ...cp, signature: 'AAAA' }, ring)).toBe('invalid');
  });

  it('R8: signatures are over a labelled canonical message, so other implementations can reproduce them', () => {
    const body = { fromPosition: 1, toPosition: 2, headHash: GENESIS_HASH, recordCount: 2, createdAt: '2025-01-01T00:00:00Z', keyId: 'k' };
    expect(checkpointMessage(body).toString('utf8')).toBe(
      `tessera.audit.checkpoint.v1\n{"createdAt":"2025-01-01T00:00:00Z","fromPosition":1,"headHash":"${GENESIS_HASH}","keyId":"k","recordCount":2,"toPosition":2}`,
    );
  });

  it('refuses an empty or backwards range', () => {
    expect(() => createCheckpoint({ previousToPosition: 200, head, createdAt: '2025-03-01T08:00:00.000Z' }, signer)).toThrow(expect.objectContaining({ code: 'invalid_checkpoint_range' }));
  });

  it('is due every N records, N validated from configuration', () => {
    const policy = parseCheckpointPolicy({ every: 1000 });
    expect([999, 1000, 1001, 2000].map((p) => isCheckpointDue(p, policy))).toEqual([false, true, false, true]);
    expect(() => parseCheckpointPolicy({ every: 0 })).toThrow('"every" must be an integer');
    expect(() => parseCheckpointPolicy({ every: '1000' })).toThrow(expect.objectContaining({ code: 'invalid_policy' }));
  });
});
