import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { derToJose } from './step-up.service';

describe('ES256 signatures in JWS form (RFC 7518 §3.4)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('turns DER signatures into 64-byte r‖s that verify, including r or s with leading zero bytes', () => {
    // About 1 DER signature in 512 has a 31-byte r or s; sign until five of them were seen, so the
    // short case is always covered (the bound is never reached in practice: P < e^-300).
    let short = 0;
    for (let i = 0; short < 5 && i < 200_000; i++) {
      const data = Buffer.from(`assertion ${i}`);
      const der = sign('sha256', data, privateKey);
      // A 31-byte (or shorter) r or s makes the DER form shorter than the usual 70–72 bytes.
      if (der.length < 70) short++;
      const jose = derToJose(der);
      expect(jose).toHaveLength(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose)).toBe(true);
    }
    expect(short).toBe(5);
  });

  it('refuses what is not a DER ECDSA signature', () => {
    expect(() => derToJose(Buffer.alloc(64, 1))).toThrow();
    expect(() => derToJose(Buffer.from([0x30, 0x04, 0x03, 0x01, 0x01, 0x00]))).toThrow();
  });
});
