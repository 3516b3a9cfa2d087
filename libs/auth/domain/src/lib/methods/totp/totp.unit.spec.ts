import type * as NodeCrypto from 'node:crypto';
import { TOTP, Secret } from 'otpauth';
import { nodeRandomSource } from '../../crypto/random';
import { conditionalRow, recordingRandom } from '../../testing/fixtures';
import {
  acceptTimeStep,
  createTotpMethod,
  generateTotpCode,
  generateTotpSecret,
  TOTP_MIN_SECRET_BYTES,
  TOTP_WINDOW,
  totpTimeStep,
  type TotpSeed,
  verifyTotpCode,
} from './totp';

const seed: TotpSeed = { secret: generateTotpSecret(recordingRandom('totp-spec')), algorithm: 'SHA1', digits: 6, period: 30 };
// The middle of a step, so ±1 and ±2 steps are whole steps away.
const now = new Date(Date.UTC(2026, 2, 1, 9, 0, 15));
const step = totpTimeStep(now, 30);
const codeAt = (offsetSteps: number) => generateTotpCode(seed, new Date(now.getTime() + offsetSteps * 30_000));

describe('TOTP', () => {
  describe('S4: seeds', () => {
    it('S4: a seed is exactly the bytes drawn from the injected CSPRNG, at least 160 bits for every algorithm', () => {
      for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
        const random = recordingRandom(algorithm);
        const secret = generateTotpSecret(random, algorithm);
        expect(random.requests).toEqual([secret.byteLength]);
        expect(secret.byteLength * 8).toBeGreaterThanOrEqual(160);
        expect(Buffer.from(secret)).toEqual(Buffer.from(recordingRandom(algorithm)(secret.byteLength)));
      }
      expect(TOTP_MIN_SECRET_BYTES * 8).toBe(160);
    });

    it('S4: SHA-256 and SHA-512 seeds are 32 and 64 bytes, the size of their HMAC output', () => {
      expect(generateTotpSecret(recordingRandom(), 'SHA256').byteLength).toBe(32);
      expect(generateTotpSecret(recordingRandom(), 'SHA512').byteLength).toBe(64);
    });

    it('S4: a random source that returns fewer bytes than asked is refused rather than trusted', () => {
      expect(() => generateTotpSecret(() => new Uint8Array(10))).toThrow(/10 bytes, 20 were requested/);
    });

    it('S4: seeds from the production CSPRNG are distinct (1000 draws)', () => {
      const seeds = new Set(Array.from({ length: 1000 }, () => Buffer.from(generateTotpSecret(nodeRandomSource)).toString('hex')));
      expect(seeds.size).toBe(1000);
    });
  });

  describe('S2: otpauth returns a delta, and 0 is a match', () => {
    it('S2: otpauth reports the current step as delta 0 — falsy, yet a match', () => {
      const delta = TOTP.validate({ token: codeAt(0), secret: new Secret({ buffer: Uint8Array.from(seed.secret).buffer }), timestamp: now.getTime() });
      expect(delta).toBe(0);
    });

    it('S2: a code of the current step is accepted with the current step', () => {
      expect(verifyTotpCode(seed, codeAt(0), now)).toEqual({ kind: 'totp', outcome: 'match', timeStep: step });
    });

    it('S2: a wrong code is no_match (validate returned null)', () => {
      const wrong = String((Number(codeAt(0)) + 1) % 1_000_000).padStart(6, '0');
      expect([codeAt(-1), codeAt(1)]).not.toContain(wrong);
      expect(verifyTotpCode(seed, wrong, now)).toEqual({ kind: 'totp', outcome: 'no_match' });
    });
  });

  describe('S3: clock window', () => {
    it('S3: the documented window is one step either side', () => {
      expect(TOTP_WINDOW).toBe(1);
    });

    it('S3: codes of the previous and the next step are accepted, each reporting its own step', () => {
      expect(verifyTotpCode(seed, codeAt(-1), now)).toEqual({ kind: 'totp', outcome: 'match', timeStep: step - 1 });
      expect(verifyTotpCode(seed, codeAt(1), now)).toEqual({ kind: 'totp', outcome: 'match', timeStep: step + 1 });
    });

    it('S3: codes two steps away either side are refused', () => {
      const nearby = [codeAt(-1), codeAt(0), codeAt(1)];
      for (const offset of [-2, 2]) {
        expect(nearby).not.toContain(codeAt(offset));
        expect(verifyTotpCode(seed, codeAt(offset), now)).toEqual({ kind: 'totp', outcome: 'no_match' });
      }
    });

    it('S3: the window edges are whole steps of server time: the last millisecond of step −1 is still inside', () => {
      const startOfStep = new Date(step * 30_000);
      expect(verifyTotpCode(seed, codeAt(-1), new Date(startOfStep.getTime() + 30_000 - 1))).toMatchObject({ outcome: 'match' });
      expect(verifyTotpCode(seed, codeAt(-1), new Date(startOfStep.getTime() + 30_000))).toEqual({ kind: 'totp', outcome: 'no_match' });
    });

    it('S3: only the server time passed in decides: the same code fails one hour later', () => {
      expect(verifyTotpCode(seed, codeAt(0), new Date(now.getTime() + 3_600_000))).toEqual({ kind: 'totp', outcome: 'no_match' });
    });
  });

  it('S6: every candidate of the window is compared with crypto.timingSafeEqual, whether it matches first or not at all', () => {
    const nodeCrypto = jest.requireActual<typeof NodeCrypto>('node:crypto');
    const spy = jest.spyOn(nodeCrypto, 'timingSafeEqual');
    for (const code of [codeAt(0), codeAt(1), '000000']) {
      spy.mockClear();
      verifyTotpCode(seed, code, now);
      expect(spy).toHaveBeenCalledTimes(3);
    }
    spy.mockRestore();
  });

  it('S5: the verifier agrees with otpauth (an independent implementation) on 300 random seeds of every algorithm and digits', () => {
    const random = recordingRandom('cross-check');
    for (let i = 0; i < 300; i++) {
      const algorithm = (['SHA1', 'SHA256', 'SHA512'] as const)[i % 3];
      const other: TotpSeed = { secret: generateTotpSecret(random, algorithm), algorithm, digits: 6 + (i % 3), period: [30, 60, 15][i % 3] };
      const at = new Date(Date.UTC(2026, 0, 1) + i * 7_919_000);
      const code = generateTotpCode(other, at);
      expect(verifyTotpCode(other, code, at)).toEqual({ kind: 'totp', outcome: 'match', timeStep: totpTimeStep(at, other.period) });
    }
  });

  describe('input', () => {
    it('accepts the spaces and dash people type between groups', () => {
      const code = codeAt(0);
      expect(verifyTotpCode(seed, `${code.slice(0, 3)} ${code.slice(3)}`, now)).toMatchObject({ outcome: 'match' });
      expect(verifyTotpCode(seed, `${code.slice(0, 3)}-${code.slice(3)}`, now)).toMatchObject({ outcome: 'match' });
    });

    it.each(['', '12345', '1234567', '12a456', '١٢٣٤٥٦', '12345６'])('refuses %p as malformed without comparing', (input) => {
      expect(verifyTotpCode(seed, input, now)).toEqual({ kind: 'totp', outcome: 'malformed' });
    });
  });

  describe('S1: replay', () => {
    it.each([
      [5, null, { accepted: true, store: 5 }],
      [5, 4, { accepted: true, store: 5 }],
      [5, 5, { accepted: false }],
      [4, 5, { accepted: false }],
    ])('S1: step %p after last accepted %p → %p', (matched, last, expected) => {
      expect(acceptTimeStep(matched, last)).toEqual(expected);
    });

    it('S1: a code is accepted once; the same code again is replayed, and so is an older code of the window', async () => {
      const method = createTotpMethod();
      const first = await method.verify({ seed, lastAcceptedStep: null }, { code: codeAt(0) }, now);
      expect(first).toEqual({ evidence: { kind: 'totp', outcome: 'match', timeStep: step }, commit: { kind: 'advance_time_step', to: step } });
      expect(await method.verify({ seed, lastAcceptedStep: step }, { code: codeAt(0) }, now)).toEqual({
        evidence: { kind: 'totp', outcome: 'replayed' },
        commit: null,
      });
      expect((await method.verify({ seed, lastAcceptedStep: step }, { code: codeAt(-1) }, now)).evidence.outcome).toBe('replayed');
    });

    it('S1: twenty parallel submissions of one valid code: every check passes, the conditional write lets exactly one through', async () => {
      const method = createTotpMethod();
      const store = conditionalRow({ lastStep: step - 3, usedAt: null });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => method.verify({ seed, lastAcceptedStep: store.row.lastStep }, { code: codeAt(0) }, now)),
      );
      const winners = results.map((result) => result.commit !== null && store.apply(result.commit)).filter(Boolean);
      expect(winners).toHaveLength(1);
      expect(store.row.lastStep).toBe(step);
    });
  });
});
