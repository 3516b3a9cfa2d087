import { createDecipheriv, scryptSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { VaultError, type VaultErrorCode } from './errors';
import { DEFAULT_SCRYPT_PARAMS, HEADER_BYTES, VAULT_MAGIC } from './format';
import { type VaultEntry } from './entry';
import { decryptVault, encryptVault, readVaultHeader, vaultFromBase64, vaultToBase64 } from './vault';
import { FAST, FAST_KDF, PASSPHRASE, sampleEntries } from './test-entries';

async function failure(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return error as VaultError;
  }
  throw new Error('expected the promise to reject');
}

function codeOf(run: () => unknown): VaultErrorCode | 'no error' {
  try {
    run();
    return 'no error';
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return (error as VaultError).code;
  }
}

/** A blob whose header carries the given scrypt fields, as a hostile server could hand out. */
function withParams(blob: Uint8Array, log2N: number, r: number, p: number): Uint8Array {
  const copy = Buffer.from(blob);
  copy.writeUInt8(log2N, 6);
  copy.writeUInt32BE(r, 7);
  copy.writeUInt32BE(p, 11);
  return copy;
}

const entries: VaultEntry[] = [
  { type: 'totp', issuer: 'ACME', label: 'alice@example.com', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: 6, period: 30 },
  { type: 'hotp', issuer: '', label: 'bank', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', algorithm: 'SHA256', digits: 8, counter: 42 },
];

describe('vault encryption (S31)', () => {
  describe('round trip', () => {
    it('S31: what is encrypted decrypts to the same entries', async () => {
      const blob = await encryptVault(entries, PASSPHRASE, FAST);
      await expect(decryptVault(blob, PASSPHRASE)).resolves.toEqual(entries);
    });

    it('S31: a round trip of 1,000 secrets loses nothing', async () => {
      const many = sampleEntries(1000);
      const blob = await encryptVault(many, PASSPHRASE, FAST);
      const back = await decryptVault(blob, PASSPHRASE);
      expect(back).toHaveLength(1000);
      expect(back).toEqual(many);
    });

    it('S31: the base64 text form round-trips too', async () => {
      const text = vaultToBase64(await encryptVault(entries, PASSPHRASE, FAST));
      await expect(decryptVault(text, PASSPHRASE)).resolves.toEqual(entries);
    });

    it('S31: the default parameters (scrypt N=2^17, r=8, p=1) round-trip, and 100 secrets are timed', async () => {
      const hundred = sampleEntries(100);
      const t0 = performance.now();
      const blob = await encryptVault(hundred, PASSPHRASE);
      const t1 = performance.now();
      const back = await decryptVault(blob, PASSPHRASE);
      const t2 = performance.now();
      expect(back).toEqual(hundred);
      expect(readVaultHeader(blob).kdf).toEqual({ algorithm: 'scrypt', ...DEFAULT_SCRYPT_PARAMS });
      console.log(
        `vault timing, 100 secrets, scrypt N=2^17 r=8 p=1: encrypt ${(t1 - t0).toFixed(0)} ms, decrypt ${(t2 - t1).toFixed(0)} ms, ` +
          `blob ${blob.byteLength} bytes`,
      );
    });

    it('S31: the same passphrase typed in composed or decomposed Unicode opens the vault', async () => {
      const composed = 'pass\u00e9phrase longue et s\u00fbre';
      const decomposed = composed.normalize('NFD');
      expect(decomposed).not.toBe(composed);
      const blob = await encryptVault(entries, composed, FAST);
      await expect(decryptVault(blob, decomposed)).resolves.toEqual(entries);
    });
  });

  describe('what the server sees', () => {
    it('S31: the blob contains no secret, label or issuer in clear, and two encryptions differ', async () => {
      const a = Buffer.from(await encryptVault(entries, PASSPHRASE, FAST));
      const b = Buffer.from(await encryptVault(entries, PASSPHRASE, FAST));
      expect(a.equals(b)).toBe(false);
      for (const blob of [a, b, Buffer.from(vaultToBase64(a))]) {
        for (const needle of ['JBSWY3DPEHPK3PXP', 'alice@example.com', 'ACME', 'GEZDGNBV', PASSPHRASE]) {
          expect(blob.includes(Buffer.from(needle))).toBe(false);
        }
      }
    });

    it('S31: the header can be read without the passphrase and reveals only version, KDF parameters and size', async () => {
      const blob = await encryptVault(entries, PASSPHRASE, FAST);
      expect(readVaultHeader(blob)).toEqual({ formatVersion: 1, kdf: { algorithm: 'scrypt', ...FAST_KDF }, sizeBytes: blob.byteLength });
      expect(Buffer.from(blob.subarray(0, 4)).equals(VAULT_MAGIC)).toBe(true);
    });
  });

  describe('failures', () => {
    let blob: Uint8Array;
    beforeAll(async () => {
      blob = await encryptVault(entries, PASSPHRASE, FAST);
    });

    it('S31: a wrong passphrase fails with wrong_passphrase_or_tampered', async () => {
      const error = await failure(decryptVault(blob, `${PASSPHRASE}!`));
      expect(error.code).toBe('wrong_passphrase_or_tampered');
    });

    it('S31: changing any header byte fails, never yielding entries', async () => {
      const expected: Record<number, VaultErrorCode[]> = {};
      for (let i = 0; i < 4; i++) expected[i] = ['malformed_blob'];
      expected[4] = ['unsupported_version'];
      expected[5] = ['unsupported_version'];
      // log2N 10 → 11 is still in range: the key changes and GCM refuses.
      expected[6] = ['wrong_passphrase_or_tampered'];
      for (let i = 7; i < 15; i++) expected[i] = ['kdf_parameters_out_of_range', 'wrong_passphrase_or_tampered'];
      for (let i = 15; i < HEADER_BYTES; i++) expected[i] = ['wrong_passphrase_or_tampered'];

      for (let i = 0; i < HEADER_BYTES; i++) {
        const tampered = Buffer.from(blob);
        tampered[i] ^= 0x01;
        const error = await failure(decryptVault(tampered, PASSPHRASE));
        expect({ byte: i, code: error.code, allowed: expected[i].includes(error.code) }).toEqual({ byte: i, code: error.code, allowed: true });
      }
    });

    it('S31: changing any ciphertext or tag byte fails with wrong_passphrase_or_tampered', async () => {
      for (let i = HEADER_BYTES; i < blob.byteLength; i++) {
        const tampered = Buffer.from(blob);
        tampered[i] ^= 0x80;
        const error = await failure(decryptVault(tampered, PASSPHRASE));
        expect([i, error.code]).toEqual([i, 'wrong_passphrase_or_tampered']);
      }
    });

    it('S31: the whole header is GCM associated data (the ciphertext does not open without it)', async () => {
      const bytes = Buffer.from(blob);
      const header = bytes.subarray(0, HEADER_BYTES);
      const key = scryptSync(PASSPHRASE, bytes.subarray(15, 31), 32, { N: 2 ** FAST_KDF.log2N, r: FAST_KDF.r, p: FAST_KDF.p });
      const open = (aad: Buffer | null) => {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(31, HEADER_BYTES), { authTagLength: 16 });
        if (aad) decipher.setAAD(aad);
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        return Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - 16)), decipher.final()]);
      };
      expect(JSON.parse(open(header).toString('utf8')).entries).toEqual(entries);
      expect(() => open(null)).toThrow();
      expect(() => open(header.subarray(0, HEADER_BYTES - 1))).toThrow();
    });

    it('S31: truncated, foreign, empty and non-base64 input is malformed_blob', async () => {
      for (const bad of [blob.subarray(0, HEADER_BYTES + 5), new Uint8Array(0), Buffer.from('PK\u0003\u0004 not a vault'), 'not base64!', '']) {
        expect((await failure(decryptVault(bad, PASSPHRASE))).code).toBe('malformed_blob');
      }
    });

    it('S31: a blob from a newer format version is unsupported_version', async () => {
      const newer = Buffer.from(blob);
      newer[4] = 2;
      expect((await failure(decryptVault(newer, PASSPHRASE))).code).toBe('unsupported_version');
      // Even when it is too short for a version-1 header: a later layout may be shorter.
      expect((await failure(decryptVault(Buffer.concat([VAULT_MAGIC, Buffer.of(9)]), PASSPHRASE))).code).toBe('unsupported_version');
    });

    it.each([
      ['N = 2^40', 40, 8, 1],
      ['N = 2^21 (2 GiB)', 21, 8, 1],
      ['r = 2^31', 17, 2 ** 31, 1],
      ['p = 1,000,000', 17, 8, 1_000_000],
      ['1 GiB is the cap: N = 2^20, r = 16', 20, 16, 1],
      ['work cap: N = 2^17, r = 8, p = 16', 17, 8, 16],
      ['RFC 7914: N must be below 2^(16·r)', 16, 1, 1],
      ['zero r', 17, 0, 1],
      ['zero p', 17, 8, 0],
      ['N = 2^0', 0, 8, 1],
    ])('S31: hostile KDF parameters are refused before any key derivation (%s)', async (_name, log2N, r, p) => {
      const hostile = withParams(blob, log2N, r, p);
      expect(codeOf(() => readVaultHeader(hostile))).toBe('kdf_parameters_out_of_range');
      const started = performance.now();
      expect((await failure(decryptVault(hostile, PASSPHRASE))).code).toBe('kdf_parameters_out_of_range');
      // Refused without deriving: far quicker than even the smallest accepted derivation would allow
      // for these sizes (generous bound so a loaded CI machine does not flake).
      expect(performance.now() - started).toBeLessThan(1000);
    });
  });

  describe('what a writer refuses', () => {
    it('S31: parameters below the OWASP minimum need an explicit opt-in', async () => {
      expect((await failure(encryptVault(entries, PASSPHRASE, { kdf: FAST_KDF }))).code).toBe('kdf_parameters_out_of_range');
    });

    it('S31: parameters beyond the reader limits are refused at write time too', async () => {
      const error = await failure(encryptVault(entries, PASSPHRASE, { kdf: { log2N: 21, r: 8, p: 1 } }));
      expect(error.code).toBe('kdf_parameters_out_of_range');
    });

    it('S31: a passphrase shorter than 15 characters is refused', async () => {
      expect((await failure(encryptVault(entries, 'short pass', FAST))).code).toBe('passphrase_too_short');
    });

    it('S31: an invalid entry is refused, and the message does not echo its secret', async () => {
      const bad = [{ ...entries[0], secret: 'JBSWY3DPEHPK3PX1' }];
      const error = await failure(encryptVault(bad, PASSPHRASE, FAST));
      expect(error.code).toBe('invalid_entry');
      expect(error.message).toContain('secret');
      expect(error.message).not.toContain('JBSWY3DPEHPK3PX1');
      const fewDigits = [{ ...entries[0], digits: 5 }];
      expect((await failure(encryptVault(fewDigits, PASSPHRASE, FAST))).code).toBe('invalid_entry');
    });

    it('S31: secrets are stored in canonical base32 (spaces, case and padding normalised)', async () => {
      const messy = [{ ...entries[0], secret: 'jbsw y3dp ehpk 3pxp====' }];
      const blob = await encryptVault(messy, PASSPHRASE, FAST);
      await expect(decryptVault(blob, PASSPHRASE)).resolves.toEqual([entries[0]]);
    });

    it('S31: base32 whose length or trailing bits are impossible is refused rather than truncated', async () => {
      for (const secret of ['ABC', 'JBSWY3DPEHPK3PXPAB', 'A']) {
        const error = await failure(encryptVault([{ ...entries[0], secret }], PASSPHRASE, FAST));
        expect([secret, error.code]).toEqual([secret, 'invalid_entry']);
      }
    });
  });
});

describe('vaultFromBase64', () => {
  it('S31: refuses characters Node would silently skip', () => {
    expect(codeOf(() => vaultFromBase64('VFNWQg==*'))).toBe('malformed_blob');
    expect(codeOf(() => vaultFromBase64('VFNWQg=='))).toBe('no error');
  });
});
