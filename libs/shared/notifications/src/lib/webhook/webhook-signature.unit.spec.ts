import crypto from 'node:crypto';
import { signWebhookPayload, verifyWebhookSignature } from './webhook-signature';

describe('webhook signatures', () => {
  afterEach(() => jest.restoreAllMocks());

  const SECRET = 'tessera-test-webhook-secret-0123456789abcdef';
  const T = 1_767_225_600; // 2026-01-01T00:00:00Z
  const AT_T = new Date(T * 1000);
  const BODY = '{"id":"k-1","text":"hello"}';

  it('matches an HMAC-SHA256 over "<t>.<body>" computed independently (openssl dgst -sha256 -hmac)', () => {
    expect(signWebhookPayload(SECRET, BODY, T)).toBe(`t=${T},v1=36a1de6e0116e6927a4edef37ba16208636179947c610b34f1105cefd1ad875f`);
  });

  it('verifies its own signature, over a string body or the same bytes', () => {
    const header = signWebhookPayload(SECRET, BODY, T);
    expect(verifyWebhookSignature(SECRET, header, BODY, AT_T)).toBe(true);
    expect(verifyWebhookSignature(Buffer.from(SECRET), header, Buffer.from(BODY), AT_T)).toBe(true);
  });

  it('rejects a body changed by one character', () => {
    const header = signWebhookPayload(SECRET, BODY, T);
    expect(verifyWebhookSignature(SECRET, header, BODY.replace('hello', 'hellp'), AT_T)).toBe(false);
  });

  it('rejects a re-serialised body: the signature is over the exact bytes sent', () => {
    const header = signWebhookPayload(SECRET, BODY, T);
    expect(verifyWebhookSignature(SECRET, header, JSON.stringify(JSON.parse(BODY), null, 2), AT_T)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    const header = signWebhookPayload(`${SECRET}-other`, BODY, T);
    expect(verifyWebhookSignature(SECRET, header, BODY, AT_T)).toBe(false);
  });

  it('rejects a replay with a fresh timestamp: t is inside the MAC', () => {
    const header = signWebhookPayload(SECRET, BODY, T);
    const moved = header.replace(`t=${T}`, `t=${T + 600}`);
    expect(verifyWebhookSignature(SECRET, moved, BODY, new Date((T + 600) * 1000))).toBe(false);
  });

  it('accepts a timestamp up to the tolerance away, either way, and rejects one second beyond', () => {
    const header = signWebhookPayload(SECRET, BODY, T);
    expect(verifyWebhookSignature(SECRET, header, BODY, new Date((T + 300) * 1000))).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, BODY, new Date((T - 300) * 1000))).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, BODY, new Date((T + 301) * 1000))).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, BODY, new Date((T - 301) * 1000))).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, BODY, new Date((T + 30) * 1000), 10)).toBe(false);
  });

  it('accepts any one valid v1 among several (a sender rotating its secret) and ignores unknown schemes', () => {
    const valid = signWebhookPayload(SECRET, BODY, T).split(',')[1];
    const other = signWebhookPayload(`${SECRET}-old`, BODY, T).split(',')[1];
    expect(verifyWebhookSignature(SECRET, `t=${T},${other},${valid}`, BODY, AT_T)).toBe(true);
    expect(verifyWebhookSignature(SECRET, `t=${T}, v0=abc, ${valid}`, BODY, AT_T)).toBe(true);
    expect(verifyWebhookSignature(SECRET, `t=${T},${other}`, BODY, AT_T)).toBe(false);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['no timestamp', 'v1=36a1de6e0116e6927a4edef37ba16208636179947c610b34f1105cefd1ad875f'],
    ['no v1', `t=${T}`],
    ['two timestamps', `t=${T},t=${T},v1=36a1de6e0116e6927a4edef37ba16208636179947c610b34f1105cefd1ad875f`],
    ['a non-numeric timestamp', 't=soon,v1=36a1de6e0116e6927a4edef37ba16208636179947c610b34f1105cefd1ad875f'],
    ['upper-case hex', `t=${T},v1=36A1DE6E0116E6927A4EDEF37BA16208636179947C610B34F1105CEFD1AD875F`],
    ['a truncated MAC', `t=${T},v1=36a1de6e0116e6927a4edef37ba16208`],
    ['a part without "="', `t=${T},v1`],
    ['an oversized header', `t=${T},${'v9=x,'.repeat(300)}v1=36a1de6e0116e6927a4edef37ba16208636179947c610b34f1105cefd1ad875f`],
  ])('rejects %s', (_case, header) => {
    expect(verifyWebhookSignature(SECRET, header, BODY, AT_T)).toBe(false);
  });

  it('S6: compares every v1 candidate in constant time, with no early exit after a match', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    const valid = signWebhookPayload(SECRET, BODY, T).split(',')[1];
    const other = signWebhookPayload(`${SECRET}-old`, BODY, T).split(',')[1];
    expect(verifyWebhookSignature(SECRET, `t=${T},${valid},${other}`, BODY, AT_T)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('refuses a secret shorter than 32 bytes (RFC 2104 §3) when signing and when verifying', () => {
    expect(() => signWebhookPayload('short-secret', BODY, T)).toThrow(TypeError);
    expect(() => verifyWebhookSignature('short-secret', `t=${T},v1=${'0'.repeat(64)}`, BODY, AT_T)).toThrow(TypeError);
  });
});
