import { TOTP, URI } from 'otpauth';
import { VaultError } from './errors';
import { type VaultEntry } from './entry';
import { fromOtpauthUri, toOtpauthUri } from './otpauth-uri';
import { sampleEntries } from './test-entries';

function errorOf(run: () => unknown): VaultError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return error as VaultError;
  }
  throw new Error('expected an error');
}

const SECRET_32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA'; // 32 bytes (RFC 6238 App. B SHA-256 seed)

describe('otpauth URIs (S31 import/export)', () => {
  it.each<[string, VaultEntry]>([
    ['SHA1, 6 digits, 30 s', { type: 'totp', issuer: 'ACME', label: 'alice@example.com', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30 }],
    ['SHA256, 8 digits, 60 s', { type: 'totp', issuer: 'Big Bank', label: 'bob', secret: SECRET_32, algorithm: 'SHA256', digits: 8, period: 60 }],
    ['SHA512, 8 digits, 60 s', { type: 'totp', issuer: 'Café Ünïcode', label: 'zoë+tag@example.com', secret: SECRET_32, algorithm: 'SHA512', digits: 8, period: 60 }],
    ['HOTP with a counter', { type: 'hotp', issuer: 'Legacy VPN', label: 'carol', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, counter: 123456 }],
    ['no issuer', { type: 'totp', issuer: '', label: 'plain label', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 7, period: 15 }],
    ['label with a colon behind an issuer', { type: 'totp', issuer: 'ACME', label: 'team:alice', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30 }],
    ['label with & ? = / %', { type: 'totp', issuer: 'A&B', label: 'x?y=z/%', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30 }],
  ])('S31: %s round-trips through an otpauth URI', (_name, entry) => {
    const uri = toOtpauthUri(entry);
    expect(uri.startsWith(`otpauth://${entry.type}/`)).toBe(true);
    expect(fromOtpauthUri(uri)).toEqual(entry);
  });

  it('S31: a hundred mixed entries round-trip', () => {
    for (const entry of sampleEntries(100)) expect(fromOtpauthUri(toOtpauthUri(entry))).toEqual(entry);
  });

  it('S31: the URI an authenticator would read gives the same codes as the entry', () => {
    const entry: VaultEntry = { type: 'totp', issuer: 'ACME', label: 'a', secret: SECRET_32, algorithm: 'SHA512', digits: 8, period: 60 };
    const parsed = URI.parse(toOtpauthUri(entry)) as TOTP;
    expect(parsed).toBeInstanceOf(TOTP);
    expect([parsed.algorithm, parsed.digits, parsed.period, parsed.secret.base32]).toEqual(['SHA512', 8, 60, SECRET_32]);
  });

  it('S31: reads the forms real issuers print (lower-case algorithm and secret, padding, defaults, issuer only in the label)', () => {
    expect(fromOtpauthUri('otpauth://totp/Example:alice@google.com?secret=jbswy3dpehpk3pxp&algorithm=sha256')).toEqual({
      type: 'totp',
      issuer: 'Example',
      label: 'alice@google.com',
      secret: 'JBSWY3DPEHPK3PXP',
      algorithm: 'SHA256',
      digits: 6,
      period: 30,
    });
    expect(fromOtpauthUri('otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP%3D%3D%3D%3D&issuer=ACME').issuer).toBe('ACME');
  });

  describe('refuses, with invalid_otpauth_uri and without quoting the URI', () => {
    it.each([
      ['not a URI', 'hello'],
      ['another scheme', 'https://example.com/?secret=JBSWY3DPEHPK3PXP'],
      ['an unknown type', 'otpauth://motp/a?secret=JBSWY3DPEHPK3PXP'],
      ['no secret', 'otpauth://totp/a?issuer=x'],
      ['a non-base32 secret', 'otpauth://totp/a?secret=JBSWY3DPEHPK3PX1'],
      ['a secret with dangling bits', 'otpauth://totp/a?secret=JBSWY3DPEHPK3PXPAB'],
      ['an unsupported algorithm', 'otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=SHA3-256'],
      ['5 digits', 'otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5'],
      ['a zero period', 'otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0'],
      ['a negative HOTP counter', 'otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=-1'],
      ['an HOTP URI without counter', 'otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP'],
      ['bad percent-encoding', 'otpauth://totp/%E0%A4%A?secret=JBSWY3DPEHPK3PXP'],
      ['an absurdly long URI', `otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=${'x'.repeat(5000)}`],
    ])('%s', (_name, uri) => {
      const error = errorOf(() => fromOtpauthUri(uri));
      expect(error.code).toBe('invalid_otpauth_uri');
      expect(error.message).not.toContain('JBSWY3DPEHPK3PX');
    });
  });

  it('S31: will not write a URI that would read back as a different account', () => {
    const base: VaultEntry = { type: 'totp', issuer: 'ACME', label: 'a', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30 };
    expect(errorOf(() => toOtpauthUri({ ...base, issuer: 'AC:ME' })).code).toBe('invalid_entry');
    expect(errorOf(() => toOtpauthUri({ ...base, issuer: '', label: 'team:alice' })).code).toBe('invalid_entry');
  });
});
