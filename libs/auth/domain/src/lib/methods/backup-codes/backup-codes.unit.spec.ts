import type * as NodeCrypto from 'node:crypto';
import { conditionalRow, countingKdf, recordingRandom } from '../../testing/fixtures';
import {
  BACKUP_CODE_KDF,
  BACKUP_CODE_POLICY,
  BACKUP_CODE_SALT_BYTES,
  BACKUP_CODE_SECRET_BITS,
  type BackupCodeRow,
  createBackupCodesMethod,
  CROCKFORD_BASE32,
  generateBackupCodes,
  isBackupCodesLow,
  normalizeBackupCode,
  parseBackupCode,
  verifyBackupCode,
} from './backup-codes';

// The module object itself (an `import * as` namespace is a copy a spy would not reach).
const nodeCrypto = jest.requireActual<typeof NodeCrypto>('node:crypto');
const now = new Date('2026-03-01T09:00:00.000Z');
const CODE_FORMAT = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/;

/** The inverse of the library's encoding, written independently for the test. */
function crockfordToBytes(text: string): Buffer {
  let bits = 0n;
  for (const char of text) bits = (bits << 5n) | BigInt(CROCKFORD_BASE32.indexOf(char));
  return Buffer.from(bits.toString(16).padStart((text.length * 5) / 4, '0'), 'hex');
}

describe('backup codes', () => {
  let generated: Awaited<ReturnType<typeof generateBackupCodes>>;
  beforeAll(async () => {
    generated = await generateBackupCodes(recordingRandom('backup-spec'));
  });
  const rowFor = (code: string): BackupCodeRow | undefined => generated.rows.find((row) => row.index === parseBackupCode(code)?.index);

  describe('S10: entropy', () => {
    it('S10: a set is 10 codes in the IIII-SSSS-SSSS-SSSS-SSSS format, all different', () => {
      expect(generated.codes).toHaveLength(BACKUP_CODE_POLICY.count);
      for (const code of generated.codes) expect(code).toMatch(CODE_FORMAT);
      expect(new Set(generated.codes).size).toBe(10);
      expect(new Set(generated.rows.map((row) => row.index)).size).toBe(10);
    });

    it('S10: the secret part alone carries ≥ 64 bits: it is exactly 80 bits drawn from the injected CSPRNG', async () => {
      expect(BACKUP_CODE_SECRET_BITS).toBeGreaterThanOrEqual(64);
      const random = recordingRandom('entropy');
      const { codes } = await generateBackupCodes(random);
      expect(random.requests).toEqual(Array(10).fill([3, 10, BACKUP_CODE_SALT_BYTES]).flat());
      const replay = recordingRandom('entropy');
      for (const code of codes) {
        replay(3);
        const secretBytes = Buffer.from(replay(10));
        replay(BACKUP_CODE_SALT_BYTES);
        expect(crockfordToBytes(parseBackupCode(code)!.secret)).toEqual(secretBytes);
      }
    });

    it('S10: an index drawn twice in one set is redrawn, so the lookup stays unambiguous', async () => {
      // Same 3 index bytes for the first two codes, then fresh bytes.
      const base = recordingRandom('dup');
      let calls = 0;
      const random = (n: number) => (n === 3 && calls++ < 2 ? new Uint8Array([1, 2, 3]) : base(n));
      const { rows } = await generateBackupCodes(random, countingKdf());
      expect(new Set(rows.map((row) => row.index)).size).toBe(10);
    });
  });

  describe('S11: storage', () => {
    it('S11: a row holds the index, a 128-bit salt, the hash and its KDF parameters — never the code', () => {
      const serialized = JSON.stringify(generated.rows, (_key, value) => (value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value));
      for (const code of generated.codes) {
        expect(serialized).not.toContain(code);
        expect(serialized).not.toContain(parseBackupCode(code)!.secret);
      }
      for (const row of generated.rows) {
        expect(Object.keys(row).sort()).toEqual(['hash', 'index', 'kdf', 'salt', 'usedAt']);
        expect(row.salt.byteLength * 8).toBeGreaterThanOrEqual(32);
        expect(row.salt.byteLength).toBe(16);
        expect(row.kdf).toEqual(BACKUP_CODE_KDF);
        expect(row.hash.byteLength).toBe(32);
      }
      expect(new Set(generated.rows.map((row) => Buffer.from(row.salt).toString('hex'))).size).toBe(10);
    });

    it('S11: the hash is scrypt over index and secret with the row salt and row parameters', async () => {
      const code = parseBackupCode(generated.codes[0])!;
      const row = rowFor(generated.codes[0])!;
      const expected = nodeCrypto.scryptSync(`${code.index}${code.secret}`, row.salt, 32, { N: row.kdf.cost, r: row.kdf.blockSize, p: row.kdf.parallelization });
      expect(Buffer.from(row.hash)).toEqual(expected);
    });

    it('S11: exactly one KDF per well-formed attempt — matching, wrong, unknown index or used — and none for malformed input', async () => {
      const kdf = countingKdf();
      const method = createBackupCodesMethod({ kdf });
      const code = generated.codes[1];
      const wrongSecret = `${code.slice(0, 5)}${code.slice(5).replace(/[0-9A-Z]/g, (c) => (c === '0' ? '1' : '0'))}`;

      expect((await method.verify(rowFor(code), { code }, now)).evidence.outcome).toBe('match');
      expect(kdf.calls).toBe(1);
      expect((await method.verify(rowFor(code), { code: wrongSecret }, now)).evidence.outcome).toBe('no_match');
      expect(kdf.calls).toBe(2);
      expect((await method.verify(undefined, { code: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ' }, now)).evidence.outcome).toBe('no_match');
      expect(kdf.calls).toBe(3);
      expect((await method.verify({ ...rowFor(code)!, usedAt: now }, { code }, now)).evidence.outcome).toBe('already_used');
      expect(kdf.calls).toBe(4);
      expect((await method.verify(rowFor(code), { code: 'not a code' }, now)).evidence.outcome).toBe('malformed');
      expect(kdf.calls).toBe(4);
    });

    it('S11: a row found under another index is not used to check this code', async () => {
      const kdf = countingKdf();
      const other = generated.rows.find((row) => row.index !== parseBackupCode(generated.codes[2])!.index);
      const result = await verifyBackupCode(other, parseBackupCode(generated.codes[2])!, now, kdf);
      expect(result.evidence.outcome).toBe('no_match');
      expect(kdf.calls).toBe(1);
    });

    it('S6: the derived hash is compared with crypto.timingSafeEqual', async () => {
      const spy = jest.spyOn(nodeCrypto, 'timingSafeEqual');
      await verifyBackupCode(rowFor(generated.codes[3]), parseBackupCode(generated.codes[3])!, now);
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockRestore();
    });

    it('S11: the KDF cost stays moderate — one verification well within a few milliseconds budget (median of 9 < 25 ms)', async () => {
      expect(128 * BACKUP_CODE_KDF.cost * BACKUP_CODE_KDF.blockSize).toBe(2 * 1024 * 1024);
      const code = parseBackupCode(generated.codes[4])!;
      const durations: number[] = [];
      for (let i = 0; i < 9; i++) {
        const start = performance.now();
        await verifyBackupCode(rowFor(generated.codes[4]), code, now);
        durations.push(performance.now() - start);
      }
      expect(durations.sort((a, b) => a - b)[4]).toBeLessThan(25);
    });
  });

  describe('S12: single use (the rule)', () => {
    it('S12: a match carries the conditional write that consumes the row; a used row is refused', async () => {
      const code = generated.codes[5];
      const result = await verifyBackupCode(rowFor(code), parseBackupCode(code)!, now);
      expect(result).toEqual({ evidence: { kind: 'backup_codes', outcome: 'match' }, commit: { kind: 'mark_used', at: now } });
      expect((await verifyBackupCode({ ...rowFor(code)!, usedAt: now }, parseBackupCode(code)!, now)).evidence.outcome).toBe('already_used');
    });

    it('S12: twenty parallel redemptions of one code: all match on read, the conditional write lets exactly one through', async () => {
      const code = generated.codes[6];
      const store = conditionalRow({ lastStep: null, usedAt: null });
      const results = await Promise.all(Array.from({ length: 20 }, () => verifyBackupCode({ ...rowFor(code)!, usedAt: store.row.usedAt }, parseBackupCode(code)!, now)));
      expect(results.every((result) => result.evidence.outcome === 'match')).toBe(true);
      expect(results.filter((result) => result.commit !== null && store.apply(result.commit))).toHaveLength(1);
    });
  });

  describe('S13: running low', () => {
    it.each([
      [10, false],
      [4, false],
      [3, true],
      [1, true],
      [0, true],
    ])('S13: %p left → low: %p', (remaining, low) => {
      expect(isBackupCodesLow(remaining)).toBe(low);
    });
  });

  describe('normalisation of what people type', () => {
    const code = 'AB1C-D0EF-GH23-JKMN-PQRS';
    it.each([
      ['ab1c-d0ef-gh23-jkmn-pqrs', 'lower case'],
      ['AB1C D0EF GH23 JKMN PQRS', 'spaces'],
      ['AB1CD0EFGH23JKMNPQRS', 'no separators'],
      ['  AB1C_D0EF.GH23-JKMN-PQRS  ', 'mixed separators'],
      ['ABIC-DOEF-GH23-JKMN-PQRS', 'I for 1, O for 0'],
      ['ABlC-DoEF-GH23-JKMN-PQRS', 'l for 1, o for 0'],
      ['ＡＢ１Ｃ－Ｄ０ＥＦ－ＧＨ２３－ＪＫＭＮ－ＰＱＲＳ', 'full-width forms'],
    ])('%s (%s) normalises to the canonical code', (input) => {
      expect(normalizeBackupCode(input)).toBe(code.replace(/-/g, ''));
    });

    it.each(['AB1C-D0EF-GH23-JKMN-PQRU', 'AB1C-D0EF-GH23-JKMN-PQR', 'AB1C-D0EF-GH23-JKMN-PQRST', 'AB1C-D0EF-GH23-JKMN-PQR!'])('%s is malformed', (input) => {
      expect(normalizeBackupCode(input)).toBeNull();
      expect(parseBackupCode(input)).toBeNull();
    });

    it('a generated code typed in lower case without dashes still matches its row', async () => {
      const typed = generated.codes[7].toLowerCase().replace(/-/g, ' ');
      expect((await createBackupCodesMethod().verify(rowFor(generated.codes[7]), { code: typed }, now)).evidence.outcome).toBe('match');
    });
  });
});
