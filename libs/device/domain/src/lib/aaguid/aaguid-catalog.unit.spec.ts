import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_AAGUIDS, createAaguidCatalog, defaultAaguidCatalog } from './aaguid-catalog';

describe('AAGUID catalog (S20: AAGUID kept for display)', () => {
  it.each([
    ['fbfc3007-154e-4ecc-8c0b-6e020557d7bd', 'iCloud Keychain', 'platform-passkey'],
    ['ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4', 'Google Password Manager', 'platform-passkey'],
    ['08987058-cadc-4b81-b6e1-30de50dcbe96', 'Windows Hello', 'platform-passkey'],
    ['bada5566-a7aa-401f-bd96-45619a55120d', '1Password', 'platform-passkey'],
    ['d548826e-79b4-db40-a3d8-11116f7e8349', 'Bitwarden', 'platform-passkey'],
    ['ee882879-721c-4913-9775-3dfcce97072a', 'YubiKey 5 Series', 'security-key'],
    ['2fc0579f-8113-47ea-b116-bb5a8db9202a', 'YubiKey 5 Series with NFC', 'security-key'],
  ])('S20: %s is %s', (aaguid, name, kind) => {
    expect(defaultAaguidCatalog.lookup(aaguid)?.name).toBe(name);
    expect(defaultAaguidCatalog.lookup(aaguid.toUpperCase())?.name).toBe(name);
    expect(defaultAaguidCatalog.suggestKind(aaguid)).toBe(kind);
  });

  it('S20: unknown, all-zero, malformed and missing AAGUIDs have no model', () => {
    for (const aaguid of ['12345678-1234-1234-1234-123456789abc', '00000000-0000-0000-0000-000000000000', 'yubikey', '', null, undefined]) {
      expect(defaultAaguidCatalog.lookup(aaguid)).toBeNull();
      expect(defaultAaguidCatalog.suggestKind(aaguid)).toBeNull();
    }
  });

  it('configuration adds models and wins over the shipped table', () => {
    const catalog = createAaguidCatalog({
      '12345678-1234-1234-1234-123456789ABC': { name: 'Corp badge key', category: 'security-key' },
      'ee882879-721c-4913-9775-3dfcce97072a': { name: 'Issued YubiKey', category: 'security-key' },
    });
    expect(catalog.lookup('12345678-1234-1234-1234-123456789abc')).toEqual({ name: 'Corp badge key', category: 'security-key' });
    expect(catalog.lookup('ee882879-721c-4913-9775-3dfcce97072a')?.name).toBe('Issued YubiKey');
    expect(catalog.lookup('fbfc3007-154e-4ecc-8c0b-6e020557d7bd')?.name).toBe('iCloud Keychain');
    // The default catalog is unchanged by another catalog's configuration.
    expect(defaultAaguidCatalog.lookup('ee882879-721c-4913-9775-3dfcce97072a')?.name).toBe('YubiKey 5 Series');
  });

  it.each([
    ['a key that is not an AAGUID', { 'not-an-aaguid': { name: 'x', category: 'platform' } }],
    ['the all-zero AAGUID', { '00000000-0000-0000-0000-000000000000': { name: 'x', category: 'platform' } }],
    ['an empty name', { '12345678-1234-1234-1234-123456789abc': { name: ' ', category: 'platform' } }],
    ['an unknown category', { '12345678-1234-1234-1234-123456789abc': { name: 'x', category: 'toaster' } }],
  ])('refuses configuration with %s at start-up', (_case, extra) => {
    expect(() => createAaguidCatalog(extra as never)).toThrow(/AAGUID catalog/);
  });

  it('the shipped JSON lists each AAGUID once, in lower case (JSON.parse would hide a duplicate)', () => {
    const raw = readFileSync(join(__dirname, 'known-aaguids.json'), 'utf8');
    const keys = [...raw.matchAll(/"([0-9a-fA-F-]{36})"\s*:/g)].map((match) => match[1]);
    expect(keys.length).toBe(Object.keys(KNOWN_AAGUIDS).length);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((key) => key === key.toLowerCase())).toBe(true);
  });
});
