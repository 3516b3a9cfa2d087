import crypto from 'node:crypto';
import {
  createSignedLink,
  generateLinkNonce,
  type LinkKeyRing,
  SignedLinkError,
  type SignedLinkErrorCode,
  verifySignedLink,
  WASNT_ME_LINK_PURPOSE,
} from './signed-link';

describe('signed single-use links', () => {
  afterEach(() => jest.restoreAllMocks());

  const key = (fill: number) => new Uint8Array(32).fill(fill);
  const RING: LinkKeyRing = { currentKid: 'k2026', keys: { k2026: key(7) } };
  const EXPIRES = new Date('2026-01-01T00:00:00Z');
  const BEFORE = new Date(EXPIRES.getTime() - 60_000);
  const input = {
    baseUrl: 'https://tessera.example/recovery/cancel',
    purpose: WASNT_ME_LINK_PURPOSE,
    subjectId: 'rec-1',
    expiresAt: EXPIRES,
    nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
  };

  /** Computed independently with basenc and `openssl dgst -sha256 -mac HMAC` (see README, "Token format"). */
  const KNOWN_TOKEN =
    'v1.k2026.eyJwIjoicmVjb3ZlcnktY2FuY2VsIiwicyI6InJlYy0xIiwiZSI6MTc2NzIyNTYwMCwibiI6IkFBQUFBQUFBQUFBQUFBQUFBQUFBQUEifQ.Y3xhueskLkbkXDgmwmliC_Gv-wsceInKBdnnuf-_q1w';

  function refusal(run: () => unknown): SignedLinkErrorCode {
    try {
      run();
    } catch (error) {
      if (error instanceof SignedLinkError) return error.code;
      throw error;
    }
    throw new Error('the link was accepted');
  }

  describe('creating', () => {
    it('produces the documented token format, byte for byte', () => {
      expect(createSignedLink(input, RING).token).toBe(KNOWN_TOKEN);
    });

    it('puts the token in the URL fragment, which browsers never send to a server, keeping the query', () => {
      const link = createSignedLink({ ...input, baseUrl: 'https://tessera.example/recovery/cancel?lang=en' }, RING);
      expect(link.url).toBe(`https://tessera.example/recovery/cancel?lang=en#token=${link.token}`);
    });

    it.each([
      ['plain http to a real host', { baseUrl: 'http://tessera.example/cancel' }],
      ['a base URL with a fragment', { baseUrl: 'https://tessera.example/cancel#x' }],
      ['credentials in the base URL', { baseUrl: 'https://user:pw@tessera.example/cancel' }],
      ['a javascript: URL', { baseUrl: 'javascript:alert(1)' }],
      ['a purpose with a dot', { purpose: 'recovery.cancel' }],
      ['a short nonce', { nonce: 'abc' }],
      ['an invalid expiry', { expiresAt: new Date(Number.NaN) }],
      ['a subject with a space', { subjectId: 'rec 1' }],
    ])('refuses %s', (_case, override) => {
      expect(() => createSignedLink({ ...input, ...override }, RING)).toThrow(TypeError);
    });

    it('allows plain http on a loopback host, for development', () => {
      expect(createSignedLink({ ...input, baseUrl: 'http://127.0.0.1:3103/cancel' }, RING).url).toMatch(/^http:\/\/127\.0\.0\.1:3103\/cancel#token=v1\./);
    });

    it('refuses a key shorter than 32 bytes and a current kid missing from the ring', () => {
      expect(() => createSignedLink(input, { currentKid: 'k1', keys: { k1: new Uint8Array(31) } })).toThrow(TypeError);
      expect(() => createSignedLink(input, { currentKid: 'k9', keys: { k1: key(1) } })).toThrow(TypeError);
    });

    it('draws 128-bit nonces that do not repeat', () => {
      const nonces = Array.from({ length: 1000 }, () => generateLinkNonce());
      expect(new Set(nonces).size).toBe(1000);
      for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });
  });

  describe('verifying', () => {
    it('returns the claims of a valid link', () => {
      const { token } = createSignedLink(input, RING);
      expect(verifySignedLink(token, RING, BEFORE, WASNT_ME_LINK_PURPOSE)).toEqual({
        purpose: WASNT_ME_LINK_PURPOSE,
        subjectId: 'rec-1',
        expiresAt: EXPIRES,
        nonce: input.nonce,
        kid: 'k2026',
      });
    });

    it('refuses an expired link: valid until one second before the expiry, refused at it and after', () => {
      const { token } = createSignedLink(input, RING);
      expect(verifySignedLink(token, RING, new Date(EXPIRES.getTime() - 1000), WASNT_ME_LINK_PURPOSE).subjectId).toBe('rec-1');
      expect(refusal(() => verifySignedLink(token, RING, EXPIRES, WASNT_ME_LINK_PURPOSE))).toBe('expired');
      expect(refusal(() => verifySignedLink(token, RING, new Date(EXPIRES.getTime() + 86_400_000), WASNT_ME_LINK_PURPOSE))).toBe('expired');
    });

    it('refuses a link for another purpose', () => {
      const { token } = createSignedLink({ ...input, purpose: 'email-confirm' }, RING);
      expect(refusal(() => verifySignedLink(token, RING, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('wrong_purpose');
    });

    it('refuses a tampered payload: another subject, a later expiry, another purpose', () => {
      const { token } = createSignedLink(input, RING);
      const [version, kid, payload, mac] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      for (const change of [{ s: 'rec-2' }, { e: claims.e + 86_400 }, { p: 'account-unfreeze' }]) {
        const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url');
        expect(refusal(() => verifySignedLink([version, kid, forged, mac].join('.'), RING, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('bad_signature');
      }
    });

    it('refuses a tampered MAC, one character changed', () => {
      const { token } = createSignedLink(input, RING);
      const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      expect(refusal(() => verifySignedLink(flipped, RING, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('bad_signature');
    });

    it('refuses a link signed with a different key under the same key id (wrong key)', () => {
      const { token } = createSignedLink(input, { currentKid: 'k2026', keys: { k2026: key(8) } });
      expect(refusal(() => verifySignedLink(token, RING, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('bad_signature');
    });

    it('refuses a link relabelled with another key id that is in the ring: the kid is inside the MAC', () => {
      const ring: LinkKeyRing = { currentKid: 'a', keys: { a: key(1), b: key(1) } };
      const { token } = createSignedLink(input, ring);
      expect(refusal(() => verifySignedLink(token.replace('v1.a.', 'v1.b.'), ring, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('bad_signature');
    });

    it('refuses a key id the ring does not hold', () => {
      const { token } = createSignedLink(input, { currentKid: 'k2099', keys: { k2099: key(9) } });
      expect(refusal(() => verifySignedLink(token, RING, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('unknown_key');
    });

    it('rotation: links under the old key verify while it stays in the ring; new links use the new key; removal ends the old ones', () => {
      const before = { currentKid: 'k2025', keys: { k2025: key(1) } };
      const old = createSignedLink(input, before).token;
      const rotated: LinkKeyRing = { currentKid: 'k2026', keys: { k2025: key(1), k2026: key(2) } };
      expect(verifySignedLink(old, rotated, BEFORE, WASNT_ME_LINK_PURPOSE).kid).toBe('k2025');
      const fresh = createSignedLink(input, rotated).token;
      expect(fresh.startsWith('v1.k2026.')).toBe(true);
      expect(verifySignedLink(fresh, rotated, BEFORE, WASNT_ME_LINK_PURPOSE).kid).toBe('k2026');
      const retired: LinkKeyRing = { currentKid: 'k2026', keys: { k2026: key(2) } };
      expect(refusal(() => verifySignedLink(old, retired, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('unknown_key');
      expect(verifySignedLink(fresh, retired, BEFORE, WASNT_ME_LINK_PURPOSE).nonce).toBe(input.nonce);
    });

    it.each([
      ['an empty string', ''],
      ['three parts', 'v1.k2026.abc'],
      ['five parts', `${KNOWN_TOKEN}.x`],
      ['another version', KNOWN_TOKEN.replace(/^v1\./, 'v2.')],
      ['a MAC of the wrong length', KNOWN_TOKEN.slice(0, -2)],
      ['characters outside base64url', KNOWN_TOKEN.replace('eyJw', 'ey+w')],
      ['an oversized token', `v1.k2026.${'A'.repeat(2000)}.${'A'.repeat(43)}`],
      ['the whole URL instead of the token', `https://tessera.example/cancel#token=${KNOWN_TOKEN}`],
    ])('refuses %s as malformed', (_case, token) => {
      expect(refusal(() => verifySignedLink(token, RING, BEFORE, WASNT_ME_LINK_PURPOSE))).toBe('malformed');
    });

    it('S6: compares the MAC in constant time', () => {
      const spy = jest.spyOn(crypto, 'timingSafeEqual');
      verifySignedLink(KNOWN_TOKEN, RING, BEFORE, WASNT_ME_LINK_PURPOSE);
      expect(spy).toHaveBeenCalledTimes(1);
    });

    it('never quotes the token in its error', () => {
      const { token } = createSignedLink(input, RING);
      try {
        verifySignedLink(token, RING, EXPIRES, WASNT_ME_LINK_PURPOSE);
        throw new Error('accepted');
      } catch (error) {
        expect(String((error as Error).message)).not.toContain(token.split('.')[3]);
        expect(JSON.stringify(error)).not.toContain(input.nonce);
      }
    });
  });
});
