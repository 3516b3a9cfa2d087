import { createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '@tessera/crypto';
import { z } from 'zod';
import { parseSafeUrl } from '../endpoints';

/**
 * Signed single-use links, such as the "this wasn't me" link that cancels a recovery.
 *
 * Token: `v1.<kid>.<payload>.<mac>`
 * - `payload`: unpadded base64url (RFC 4648 §5) of `{"p":purpose,"s":subjectId,"e":expiry,"n":nonce}`,
 *   expiry in Unix seconds.
 * - `mac`: base64url HMAC-SHA256 (RFC 2104) under the key `kid` over a domain label and
 *   `v1.<kid>.<payload>`, so neither the version nor the key id can be swapped without the key.
 *
 * The token proves that Tessera issued the link for this purpose and subject until the expiry. It
 * does not by itself stop a second use: single use is the caller's job, by recording the nonce
 * (see `verifySignedLink`).
 */

/** The purpose of the link in recovery notifications that cancels the recovery. */
export const WASNT_ME_LINK_PURPOSE = 'recovery-cancel';

/** RFC 2104 §3: keys shorter than the hash output (32 bytes) are "strongly discouraged". */
export const LINK_KEY_MIN_BYTES = 32;

const VERSION = 'v1';
const MAC_LABEL = 'tessera/signed-link/v1';
/** No dot: the key id sits between the token's dots. */
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const PURPOSE = /^[a-z][a-z0-9-]{0,63}$/;
const SUBJECT = /^[\x21-\x7e]{1,128}$/;
/** At least 22 base64url characters: 128 bits when drawn at random, as `generateLinkNonce` does. */
const NONCE = /^[A-Za-z0-9_-]{22,64}$/;
const MAX_TOKEN_LENGTH = 1024;

/** Keys by id, and the id new links are signed with. Older keys stay to verify links already sent. */
export interface LinkKeyRing {
  readonly currentKid: string;
  readonly keys: Readonly<Record<string, Uint8Array>>;
}

export interface CreateSignedLink {
  /** The page that receives the link: https (http only on a loopback host), without a fragment. */
  readonly baseUrl: string;
  readonly purpose: string;
  /** What the link acts on, e.g. the recovery id. */
  readonly subjectId: string;
  readonly expiresAt: Date;
  /** Unique per link, from `generateLinkNonce()`; the caller records it when the link is used. */
  readonly nonce: string;
}

export interface SignedLink {
  /** The address to send: `baseUrl#token=<token>`. */
  readonly url: string;
  readonly token: string;
}

export interface SignedLinkClaims {
  readonly purpose: string;
  readonly subjectId: string;
  readonly expiresAt: Date;
  readonly nonce: string;
  /** The key that signed the link; a link under an old key still verifies while that key is in the ring. */
  readonly kid: string;
}

export type SignedLinkErrorCode = 'malformed' | 'unknown_key' | 'bad_signature' | 'wrong_purpose' | 'expired';

/** A link that must not be honoured. The message never quotes the token. */
export class SignedLinkError extends Error {
  constructor(
    readonly code: SignedLinkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignedLinkError';
  }
}

/** 128 bits from the CSPRNG, base64url: enough that no two links ever share a nonce. */
export function generateLinkNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Builds a signed link with the current key.
 *
 * The token travels in the URL fragment, which browsers never send to a server: it stays out of
 * access logs, proxies and `Referer` headers, and a mail scanner that fetches every link cannot
 * spend it. The receiving page reads `location.hash`, asks the person to confirm, and POSTs the
 * token; only that POST calls `verifySignedLink`.
 *
 * The token is a secret until used (S32): create it inside the activity that sends the message,
 * never in workflow code, and return no part of it from the activity.
 */
export function createSignedLink(input: CreateSignedLink, keyRing: LinkKeyRing): SignedLink {
  const base = parseSafeUrl(input.baseUrl);
  if (!base || base.hash !== '' || input.baseUrl.includes('#')) {
    throw new TypeError('the link base URL must be https (or http on a loopback host), without credentials or a fragment');
  }
  if (typeof input.purpose !== 'string' || !PURPOSE.test(input.purpose)) throw new TypeError('the link purpose must be 1–64 characters of [a-z0-9-], starting with a letter');
  if (typeof input.subjectId !== 'string' || !SUBJECT.test(input.subjectId)) throw new TypeError('the link subject must be 1–128 printable ASCII characters');
  if (typeof input.nonce !== 'string' || !NONCE.test(input.nonce)) throw new TypeError('the link nonce must be 22–64 base64url characters (use generateLinkNonce)');
  if (!(input.expiresAt instanceof Date) || Number.isNaN(input.expiresAt.getTime())) throw new TypeError('the link expiry must be a valid Date');
  const kid = keyRing?.currentKid;
  const key = keyFor(keyRing, kid);
  if (!key) throw new TypeError('the current link key id is not in the key ring');

  const claims = { p: input.purpose, s: input.subjectId, e: Math.floor(input.expiresAt.getTime() / 1000), n: input.nonce };
  const signed = `${VERSION}.${kid}.${Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')}`;
  const token = `${signed}.${sign(key, signed)}`;
  return { url: `${base.href}#token=${token}`, token };
}

const payloadSchema = z.strictObject({
  p: z.string().regex(PURPOSE),
  s: z.string().regex(SUBJECT),
  e: z.number().int().nonnegative(),
  n: z.string().regex(NONCE),
});

/**
 * Checks a token, in this order: its shape, its key id, its MAC (constant time, S6), then, only
 * for a token known to be ours, its purpose and its expiry (expired when `now` ≥ expiry). Throws
 * `SignedLinkError`; a caller turns any of its codes into the same refusal for the person.
 *
 * Single use is the caller's part: after this returns, record `nonce` with an insert that fails
 * when it exists (a unique constraint, kept at least until `expiresAt`) and honour the link only if
 * the insert succeeded. Verify first, record second, so forged tokens cannot fill the table.
 */
export function verifySignedLink(token: string, keyRing: LinkKeyRing, now: Date, expectedPurpose: string): SignedLinkClaims {
  if (typeof expectedPurpose !== 'string' || !PURPOSE.test(expectedPurpose)) throw new TypeError('the expected purpose must be a valid link purpose');
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('now must be a valid Date');
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new SignedLinkError('malformed', 'the link is malformed');
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !KID.test(parts[1]) || !/^[A-Za-z0-9_-]+$/.test(parts[2]) || !/^[A-Za-z0-9_-]{43}$/.test(parts[3])) {
    throw new SignedLinkError('malformed', 'the link is malformed');
  }
  const [, kid, payload, suppliedMac] = parts;
  const key = keyFor(keyRing, kid);
  if (!key) throw new SignedLinkError('unknown_key', 'the link was signed with a key that is no longer accepted');
  if (!constantTimeEqual(suppliedMac, sign(key, `${VERSION}.${kid}.${payload}`))) {
    throw new SignedLinkError('bad_signature', 'the link signature does not match');
  }

  let claims: z.infer<typeof payloadSchema>;
  try {
    claims = payloadSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    throw new SignedLinkError('malformed', 'the link is malformed');
  }
  if (claims.p !== expectedPurpose) throw new SignedLinkError('wrong_purpose', 'the link is not for this action');
  const expiresAt = new Date(claims.e * 1000);
  if (now.getTime() >= expiresAt.getTime()) throw new SignedLinkError('expired', 'the link has expired');
  return { purpose: claims.p, subjectId: claims.s, expiresAt, nonce: claims.n, kid };
}

function sign(key: Uint8Array, signed: string): string {
  return createHmac('sha256', key).update(MAC_LABEL, 'utf8').update('\n', 'utf8').update(signed, 'utf8').digest('base64url');
}

/** The key for `kid`, or undefined. A key that is in the ring but too short is a configuration error. */
function keyFor(keyRing: LinkKeyRing, kid: string | undefined): Uint8Array | undefined {
  if (typeof kid !== 'string' || !KID.test(kid) || typeof keyRing?.keys !== 'object' || keyRing.keys === null) return undefined;
  if (!Object.hasOwn(keyRing.keys, kid)) return undefined;
  const key = keyRing.keys[kid];
  if (!(key instanceof Uint8Array) || key.byteLength < LINK_KEY_MIN_BYTES) {
    throw new TypeError(`link key '${kid}' must be at least ${LINK_KEY_MIN_BYTES} bytes`);
  }
  return key;
}
