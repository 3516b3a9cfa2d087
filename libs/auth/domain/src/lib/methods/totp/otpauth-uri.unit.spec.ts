import { DomainError } from '@tessera/event-sourcing';
import { recordingRandom } from '../../testing/fixtures';
import { buildOtpauthUri, decodeBase32Secret, encodeBase32Secret, type OtpauthKey, parseOtpauthUri } from './otpauth-uri';
import { generateTotpSecret } from './totp';

const secret = generateTotpSecret(recordingRandom('uri'));
const base32 = encodeBase32Secret(secret);
const key: OtpauthKey = { issuer: 'ACME Corp', accountName: 'alice@example.com', secret, algorithm: 'SHA256', digits: 8, period: 60 };

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).code;
  }
  return undefined;
}

describe('otpauth:// key URIs', () => {
  it('builds a URI carrying issuer, label, algorithm, digits and period', () => {
    const uri = buildOtpauthUri(key);
    expect(uri).toMatch(/^otpauth:\/\/totp\/ACME%20Corp:alice%40example\.com\?/);
    const params = new URL(uri).searchParams;
    expect(Object.fromEntries(params)).toEqual({ issuer: 'ACME Corp', secret: base32, algorithm: 'SHA256', digits: '8', period: '60' });
  });

  it('parses what it builds back to the same key', () => {
    const parsed = parseOtpauthUri(buildOtpauthUri(key));
    expect({ ...parsed, secret: Buffer.from(parsed.secret) }).toEqual({ ...key, secret: Buffer.from(secret) });
  });

  it('imports a typical authenticator-app URI, filling defaults (SHA1, 6 digits, 30 s)', () => {
    const parsed = parseOtpauthUri(`otpauth://totp/Example:bob?secret=${base32.toLowerCase()}&issuer=Example`);
    expect(parsed).toMatchObject({ issuer: 'Example', accountName: 'bob', algorithm: 'SHA1', digits: 6, period: 30 });
    expect(Buffer.from(parsed.secret)).toEqual(Buffer.from(secret));
  });

  it('accepts a label without issuer, an encoded colon and padding', () => {
    expect(parseOtpauthUri(`otpauth://totp/carol?secret=${base32}`)).toMatchObject({ issuer: '', accountName: 'carol' });
    expect(parseOtpauthUri(`otpauth://totp/Ex%3A%20carol?secret=${base32}====`)).toMatchObject({ issuer: 'Ex', accountName: 'carol' });
  });

  it.each([
    ['not a uri', 'invalid_uri'],
    ['https://example.com/?secret=AAAA', 'invalid_uri'],
    [`otpauth://hotp/x?secret=${base32}&counter=1`, 'unsupported_otp_type'],
    [`otpauth://push/x?secret=${base32}`, 'invalid_uri'],
    ['otpauth://totp/x?issuer=y', 'missing_secret'],
    ['otpauth://totp/x?secret=', 'missing_secret'],
    ['otpauth://totp/x?secret=ABC1DEFG', 'invalid_base32'],
    ['otpauth://totp/x?secret=ABCDEFGHA', 'invalid_base32'],
    ['otpauth://totp/x?secret=JBSWY3DPEHPK3PXP', 'seed_too_short'],
    [`otpauth://totp/x?secret=${base32}&algorithm=MD5`, 'unsupported_algorithm'],
    [`otpauth://totp/x?secret=${base32}&algorithm=SHA224`, 'unsupported_algorithm'],
    [`otpauth://totp/x?secret=${base32}&digits=5`, 'invalid_digits'],
    [`otpauth://totp/x?secret=${base32}&digits=9`, 'invalid_digits'],
    [`otpauth://totp/x?secret=${base32}&digits=six`, 'invalid_digits'],
    [`otpauth://totp/x?secret=${base32}&period=14`, 'invalid_period'],
    [`otpauth://totp/x?secret=${base32}&period=121`, 'invalid_period'],
    [`otpauth://totp/x?secret=${base32}&period=-30`, 'invalid_period'],
    [`otpauth://totp/?secret=${base32}`, 'missing_label'],
    [`otpauth://totp/Evil:bob?secret=${base32}&issuer=Good`, 'issuer_mismatch'],
    [`otpauth://totp/bob?secret=${base32}&secret=${base32}`, 'duplicate_parameter'],
    [`otpauth://totp/%E0%A4%A?secret=${base32}`, 'invalid_uri'],
    [`otpauth://totp/x?secret=${'A'.repeat(3000)}`, 'invalid_uri'],
  ])('refuses %s with %s', (uri, code) => {
    expect(codeOf(() => parseOtpauthUri(uri))).toBe(code);
  });

  it('accepts the parameter limits exactly: 6 and 8 digits, 15 and 120 s', () => {
    for (const [digits, period] of [[6, 15], [8, 120]]) {
      expect(parseOtpauthUri(`otpauth://totp/x?secret=${base32}&digits=${digits}&period=${period}`)).toMatchObject({ digits, period });
    }
  });

  it('refuses to build a URI for a seed below 160 bits or a label that would be misread', () => {
    expect(codeOf(() => buildOtpauthUri({ ...key, secret: secret.subarray(0, 19) }))).toBe('seed_too_short');
    expect(codeOf(() => buildOtpauthUri({ ...key, issuer: 'A:B' }))).toBe('invalid_label');
    expect(codeOf(() => buildOtpauthUri({ ...key, accountName: '' }))).toBe('invalid_label');
    expect(codeOf(() => buildOtpauthUri({ ...key, digits: 10 }))).toBe('invalid_digits');
  });

  it('decodes base32 case-insensitively, ignoring spaces, and round-trips', () => {
    const spaced = base32.toLowerCase().replace(/(.{4})/g, '$1 ');
    expect(Buffer.from(decodeBase32Secret(spaced))).toEqual(Buffer.from(secret));
    expect(codeOf(() => decodeBase32Secret('===='))).toBe('invalid_base32');
  });
});
