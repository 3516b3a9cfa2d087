import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Ed25519 keys for checkpoint signatures (RFC 8032 §5.1), read from configuration in either form
 * operators meet in practice:
 *
 * - PEM: `-----BEGIN PRIVATE KEY-----` (PKCS#8, RFC 5958) or `-----BEGIN PUBLIC KEY-----`
 *   (SubjectPublicKeyInfo, RFC 5280), as `openssl genpkey -algorithm ed25519` writes them;
 * - raw base64 or base64url: a 32-byte public key; a 32-byte private key (the RFC 8032 seed); or the
 *   64-byte seed-then-public-key form libsodium and many tools export, whose second half must match.
 *
 * Raw keys are wrapped in the fixed DER prefixes of RFC 8410 §7 (OID 1.3.101.112, id-Ed25519) and
 * handed to node:crypto, so there is one code path for both forms.
 *
 * Errors say what is wrong and never quote the input (S30): a key pasted into the wrong variable
 * must not end up in a log line.
 */

export type SigningKeyErrorCode =
  | 'key_missing'
  | 'key_not_parsable'
  | 'key_wrong_algorithm'
  | 'key_wrong_length'
  | 'key_wrong_type'
  | 'key_pair_mismatch'
  | 'key_id_invalid';

export class SigningKeyError extends Error {
  constructor(
    readonly code: SigningKeyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
// At most 32 characters: a 256-bit key in base64 needs 43, so a key pasted into the id setting
// fails this check and is never quoted in a later message.
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** `what` names the setting in messages, e.g. "AUDIT_CHECKPOINT_PRIVATE_KEY". */
export function parseEd25519PrivateKey(text: string, what = 'the checkpoint private key'): KeyObject {
  const trimmed = trimmedOrThrow(text, what);
  if (trimmed.startsWith('-----BEGIN')) {
    if (/-----BEGIN (ED25519 )?PUBLIC KEY-----/.test(trimmed)) {
      throw new SigningKeyError('key_wrong_type', `${what} is a public key; a private key (BEGIN PRIVATE KEY) is needed`);
    }
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(trimmed)) {
      throw new SigningKeyError('key_not_parsable', `${what} is an encrypted PEM; supply the unencrypted PKCS#8 key from the secret store`);
    }
    return requireEd25519(pemKey(() => createPrivateKey({ key: trimmed, format: 'pem' }), what), what);
  }
  const raw = decodeBase64(trimmed, what);
  if (raw.length === 32) return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  if (raw.length === 64) {
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
    if (!rawPublicKey(createPublicKey(key)).equals(raw.subarray(32))) {
      throw new SigningKeyError('key_pair_mismatch', `${what}: the last 32 of its 64 bytes are not the public key of the first 32`);
    }
    return key;
  }
  throw new SigningKeyError('key_wrong_length', `${what} decodes to ${raw.length} bytes; a raw Ed25519 private key is 32 bytes (or 64 with its public key)`);
}

export function parseEd25519PublicKey(text: string, what = 'the checkpoint public key'): KeyObject {
  const trimmed = trimmedOrThrow(text, what);
  if (trimmed.startsWith('-----BEGIN')) {
    if (/PRIVATE KEY-----/.test(trimmed)) {
      throw new SigningKeyError('key_wrong_type', `${what} is a private key; verifiers are configured with public keys only`);
    }
    return requireEd25519(pemKey(() => createPublicKey({ key: trimmed, format: 'pem' }), what), what);
  }
  const raw = decodeBase64(trimmed, what);
  if (raw.length !== 32) throw new SigningKeyError('key_wrong_length', `${what} decodes to ${raw.length} bytes; a raw Ed25519 public key is 32 bytes`);
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The 32-byte public key (RFC 8032 §5.1.5 encoding), e.g. to print for a verifier's config. */
export function rawPublicKey(key: KeyObject): Buffer {
  const der = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_ED25519_PREFIX.length);
}

/** The key a checkpoint signer uses, with the id verifiers look its public key up by. */
export interface CheckpointSigner {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

/** Verifiers' public keys by key id: old ids stay after a rotation so old checkpoints still verify. */
export type PublicKeyRing = ReadonlyMap<string, KeyObject>;

export function assertKeyId(keyId: string, what: string): void {
  if (!KEY_ID_PATTERN.test(keyId)) throw new SigningKeyError('key_id_invalid', `${what}: a key id is 1-32 characters of A-Z a-z 0-9 . _ -`);
}

export function parseCheckpointSigner(config: { readonly keyId: string; readonly privateKey: string }): CheckpointSigner {
  assertKeyId(config.keyId, 'the checkpoint signing key');
  return { keyId: config.keyId, privateKey: parseEd25519PrivateKey(config.privateKey, `the checkpoint private key "${config.keyId}"`) };
}

/** `{ keyId: PEM or base64 public key }`, as configuration usually holds them. */
export function parsePublicKeyRing(config: Readonly<Record<string, string>>): PublicKeyRing {
  const ring = new Map<string, KeyObject>();
  for (const [keyId, text] of Object.entries(config)) {
    assertKeyId(keyId, 'a checkpoint public key');
    ring.set(keyId, parseEd25519PublicKey(text, `the checkpoint public key "${keyId}"`));
  }
  return ring;
}

function trimmedOrThrow(text: string, what: string): string {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed === '') throw new SigningKeyError('key_missing', `${what} is empty or not set`);
  return trimmed;
}

function decodeBase64(text: string, what: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) {
    throw new SigningKeyError('key_not_parsable', `${what} is neither PEM nor base64/base64url`);
  }
  return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function pemKey(parse: () => KeyObject, what: string): KeyObject {
  try {
    return parse();
  } catch {
    // node:crypto's message may quote parts of the input; ours does not.
    throw new SigningKeyError('key_not_parsable', `${what} is not a valid PEM key`);
  }
}

function requireEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError('key_wrong_algorithm', `${what} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; checkpoints are signed with Ed25519`);
  }
  return key;
}
