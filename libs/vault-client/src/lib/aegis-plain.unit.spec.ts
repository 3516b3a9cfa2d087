import { VaultError } from './errors';
import { type VaultEntry } from './entry';
import { exportAegisPlain, importAegisPlain } from './aegis-plain';
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

const fixedUuids = () => {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
};

/** An entry exactly as docs/vault.md (Aegis) shows a plain db version 3 entry, with the fields Aegis adds. */
const aegisDocumentEntry = {
  type: 'totp',
  uuid: '01234567-89ab-cdef-0123-456789abcdef',
  name: 'Bob',
  issuer: 'Google',
  note: 'Main account',
  favorite: false,
  icon: null,
  icon_mime: null,
  icon_hash: null,
  info: { secret: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', algo: 'SHA1', digits: 6, period: 30 },
  groups: ['01234567-89ab-cdef-0123-456789abcdef'],
};

function aegisFile(entries: unknown[], overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, header: { slots: null, params: null }, db: { version: 3, entries, groups: [] }, ...overrides });
}

describe('Aegis plain JSON export/import (S31)', () => {
  it('S31: export then import gives back the same entries', () => {
    const entries = sampleEntries(200);
    const { entries: back, skipped } = importAegisPlain(exportAegisPlain(entries));
    expect(skipped).toEqual([]);
    expect(back).toEqual(entries);
  });

  it('S31: the export has the structure Aegis documents for a plain vault', () => {
    const entries: VaultEntry[] = [
      { type: 'totp', issuer: 'Google', label: 'Bob', secret: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', algorithm: 'SHA1', digits: 6, period: 30 },
      { type: 'hotp', issuer: 'VPN', label: 'carol', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA256', digits: 8, counter: 7 },
    ];
    expect(JSON.parse(exportAegisPlain(entries, { newUuid: fixedUuids() }))).toEqual({
      version: 1,
      header: { slots: null, params: null },
      db: {
        version: 3,
        entries: [
          { ...aegisDocumentEntry, uuid: '00000000-0000-4000-8000-000000000001', note: '', groups: [] },
          {
            type: 'hotp',
            uuid: '00000000-0000-4000-8000-000000000002',
            name: 'carol',
            issuer: 'VPN',
            note: '',
            favorite: false,
            icon: null,
            icon_mime: null,
            icon_hash: null,
            info: { secret: 'JBSWY3DPEHPK3PXP', algo: 'SHA256', digits: 8, counter: 7 },
            groups: [],
          },
        ],
        groups: [],
      },
    });
  });

  it('S31: reads the documented Aegis entry, ignoring fields it does not model', () => {
    expect(importAegisPlain(aegisFile([aegisDocumentEntry]))).toEqual({
      entries: [{ type: 'totp', issuer: 'Google', label: 'Bob', secret: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', algorithm: 'SHA1', digits: 6, period: 30 }],
      skipped: [],
    });
  });

  it('S31: reports Steam/Yandex/mOTP and invalid entries as skipped, by position, without their secrets', () => {
    const steam = { ...aegisDocumentEntry, type: 'steam', info: { secret: 'JBSWY3DPEHPK3PXP', algo: 'SHA1', digits: 5, period: 30 } };
    const broken = { ...aegisDocumentEntry, info: { secret: 'NOT-BASE32-189', algo: 'SHA1', digits: 6, period: 30 } };
    const md5 = { ...aegisDocumentEntry, info: { ...aegisDocumentEntry.info, algo: 'MD5' } };
    const result = importAegisPlain(aegisFile([steam, aegisDocumentEntry, broken, md5, 42]));
    expect(result.entries).toHaveLength(1);
    expect(result.skipped.map(({ index, type }) => [index, type])).toEqual([
      [0, 'steam'],
      [2, 'totp'],
      [3, 'totp'],
      [4, 'unknown'],
    ]);
    expect(JSON.stringify(result.skipped)).not.toContain('NOT-BASE32');
  });

  it('S31: an empty account name falls back to the issuer, as Aegis displays it', () => {
    const { entries } = importAegisPlain(aegisFile([{ ...aegisDocumentEntry, name: '' }]));
    expect(entries[0].label).toBe('Google');
  });

  it.each([
    ['not JSON', '{', 'invalid_import'],
    ['JSON of another shape', '{"accounts": []}', 'invalid_import'],
    ['an encrypted Aegis vault', JSON.stringify({ version: 1, header: { slots: [{ type: 1 }], params: { nonce: 'aa', tag: 'bb' } }, db: 'c2VjcmV0' }), 'unsupported_import'],
    ['a newer container version', aegisFile([], { version: 2 }), 'unsupported_import'],
    ['a newer db version', JSON.stringify({ version: 1, header: { slots: null, params: null }, db: { version: 4, entries: [] } }), 'unsupported_import'],
  ])('S31: refuses %s', (_name, text, code) => {
    expect(errorOf(() => importAegisPlain(text)).code).toBe(code);
  });
});
