import type * as NodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { DomainError } from '@tessera/event-sourcing';
import { conditionalRow, recordingRandom, scriptedRandom } from '../../testing/fixtures';
import { generateNumericCode } from '../numeric-code';
import { methodDescriptor } from '../registry';
import {
  createEmailOtpMethod,
  createSmsOtpMethod,
  DEFAULT_RESTRICTED_FACTOR_POLICY,
  issueOutOfBandCode,
  maskEmailAddress,
  maskPhoneNumber,
  OUT_OF_BAND_TTL,
  verifyOutOfBandCode,
} from './out-of-band-code';

const pepper = Uint8Array.from(createHash('sha256').update('test pepper').digest());
const now = new Date('2026-03-01T09:00:00.000Z');
const MINUTE = 60_000;
const issue = (channel: 'email_otp' | 'sms_otp', extra: { ttlMs?: number; digits?: number } = {}) =>
  issueOutOfBandCode({ channel, policy: DEFAULT_RESTRICTED_FACTOR_POLICY, now, ...extra }, { random: recordingRandom(channel), pepper });

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).code;
  }
  return undefined;
}

describe('email and SMS codes', () => {
  it('S7: both are registered as restricted factors', () => {
    expect(methodDescriptor('sms_otp').restricted).toBe(true);
    expect(methodDescriptor('email_otp').restricted).toBe(true);
  });

  describe('S7: a policy can forbid them', () => {
    it.each([
      ['sms_otp', { allowEmailOtp: true, allowSmsOtp: false }],
      ['email_otp', { allowEmailOtp: false, allowSmsOtp: true }],
    ] as const)('S7: no %s code is issued when the policy turns it off', (channel, policy) => {
      expect(codeOf(() => issueOutOfBandCode({ channel, policy, now }, { random: recordingRandom(), pepper }))).toBe('restricted_factor_forbidden');
    });
  });

  describe('S7: expiry per channel', () => {
    it('S7: an SMS code lives 5 minutes by default and at most 10', () => {
      expect(issue('sms_otp').record.expiresAt).toEqual(new Date(now.getTime() + 5 * MINUTE));
      expect(issue('sms_otp', { ttlMs: 10 * MINUTE }).record.expiresAt).toEqual(new Date(now.getTime() + 10 * MINUTE));
      expect(codeOf(() => issue('sms_otp', { ttlMs: 10 * MINUTE + 1 }))).toBe('ttl_exceeds_maximum');
      expect(OUT_OF_BAND_TTL.sms_otp.maxMs).toBe(10 * MINUTE);
    });

    it('S7: an email code lives 10 minutes by default and at most 24 hours', () => {
      expect(issue('email_otp').record.expiresAt).toEqual(new Date(now.getTime() + 10 * MINUTE));
      expect(issue('email_otp', { ttlMs: 24 * 60 * MINUTE }).record.expiresAt).toEqual(new Date(now.getTime() + 24 * 60 * MINUTE));
      expect(codeOf(() => issue('email_otp', { ttlMs: 24 * 60 * MINUTE + 1 }))).toBe('ttl_exceeds_maximum');
      expect(codeOf(() => issue('email_otp', { ttlMs: 0 }))).toBe('ttl_exceeds_maximum');
    });

    it.each(['sms_otp', 'email_otp'] as const)('S7: a %s code verifies until the last millisecond and is expired at its expiry', (channel) => {
      const { code, record } = issue(channel);
      expect(verifyOutOfBandCode(record, code, new Date(record.expiresAt.getTime() - 1), pepper).evidence).toEqual({ kind: channel, outcome: 'match' });
      expect(verifyOutOfBandCode(record, code, record.expiresAt, pepper).evidence).toEqual({ kind: channel, outcome: 'expired' });
    });
  });

  describe('S7: single use', () => {
    it('S7: a match carries the write that consumes the code; a consumed code is refused', () => {
      const { code, record } = issue('sms_otp');
      expect(verifyOutOfBandCode(record, code, now, pepper)).toEqual({ evidence: { kind: 'sms_otp', outcome: 'match' }, commit: { kind: 'mark_used', at: now } });
      expect(verifyOutOfBandCode({ ...record, consumedAt: now }, code, now, pepper).evidence.outcome).toBe('already_used');
    });

    it('S7: twenty parallel submissions of one code: the conditional write lets exactly one through', async () => {
      const { code, record } = issue('email_otp');
      const store = conditionalRow({ lastStep: null, usedAt: null });
      const method = createEmailOtpMethod({ pepper });
      const results = await Promise.all(Array.from({ length: 20 }, () => method.verify({ ...record, consumedAt: store.row.usedAt }, { code }, now)));
      expect(results.filter((result) => result.commit !== null && store.apply(result.commit))).toHaveLength(1);
    });
  });

  describe('hashed storage (no plaintext)', () => {
    it('the stored record holds a keyed MAC and a salt, never the code', () => {
      const { code, record } = issue('sms_otp');
      const serialized = JSON.stringify(record, (_key, value) => (value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value));
      expect(serialized).not.toContain(code);
      expect(Buffer.from(record.mac).toString('hex')).not.toBe(createHash('sha256').update(code).digest('hex'));
      expect(record.mac.byteLength).toBe(32);
    });

    it('S6/S29: without the pepper a dumped record verifies nothing — the right code under another key is no_match', () => {
      const { code, record } = issue('sms_otp');
      const otherPepper = Uint8Array.from(createHash('sha256').update('another').digest());
      expect(verifyOutOfBandCode(record, code, now, otherPepper).evidence.outcome).toBe('no_match');
    });

    it('S6: the MAC is compared with crypto.timingSafeEqual', () => {
      const nodeCrypto = jest.requireActual<typeof NodeCrypto>('node:crypto');
      const { code, record } = issue('sms_otp');
      const spy = jest.spyOn(nodeCrypto, 'timingSafeEqual');
      verifyOutOfBandCode(record, code, now, pepper);
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockRestore();
    });

    it('refuses a pepper shorter than 256 bits', () => {
      expect(() => createSmsOtpMethod({ pepper: new Uint8Array(16) })).toThrow(/at least 32 bytes/);
    });

    it('a code issued for SMS is not accepted by the email method', async () => {
      const { code, record } = issue('sms_otp');
      expect((await createEmailOtpMethod({ pepper }).verify(record, { code }, now)).evidence).toEqual({ kind: 'email_otp', outcome: 'no_match' });
    });
  });

  describe('code generation', () => {
    it('codes have 6 digits by default, up to 10 on request, never fewer than 6', () => {
      expect(issue('sms_otp').code).toMatch(/^[0-9]{6}$/);
      expect(issue('sms_otp', { digits: 10 }).code).toMatch(/^[0-9]{10}$/);
      expect(codeOf(() => issue('sms_otp', { digits: 5 }))).toBe('invalid_digits');
    });

    it('digits come from the injected CSPRNG by rejection sampling: bytes ≥ 250 are redrawn, not folded', () => {
      expect(generateNumericCode(scriptedRandom([255, 250, 3, 14, 249, 0, 9, 100, 251, 7]), 6)).toBe('349090');
    });

    it('digits are uniformly distributed (χ² over 60 000 digits, 9 degrees of freedom, p > 0.001)', () => {
      const counts = Array(10).fill(0);
      for (const digit of generateNumericCode(recordingRandom('uniform'), 60_000)) counts[Number(digit)] += 1;
      const chiSquare = counts.reduce((sum, count) => sum + (count - 6000) ** 2 / 6000, 0);
      expect(chiSquare).toBeLessThan(27.88);
    });

    it('input with spaces or a dash is accepted; letters are malformed', () => {
      const { code, record } = issue('sms_otp');
      expect(verifyOutOfBandCode(record, `${code.slice(0, 3)} ${code.slice(3)}`, now, pepper).evidence.outcome).toBe('match');
      expect(verifyOutOfBandCode(record, 'abcdef', now, pepper).evidence.outcome).toBe('malformed');
    });
  });

  describe('destination hints', () => {
    it('mask the address so only its owner recognises it', () => {
      expect(maskEmailAddress('alice@example.com')).toBe('a•••@example.com');
      expect(maskPhoneNumber('+4915112345689')).toBe('•••••••••••89');
    });

    it.each([
      [() => maskEmailAddress('no-at-sign'), 'invalid_destination'],
      [() => maskEmailAddress('@example.com'), 'invalid_destination'],
      [() => maskPhoneNumber('015112345689'), 'invalid_destination'],
    ])('refuses malformed destinations (%#)', (action, code) => {
      expect(codeOf(action)).toBe(code);
    });
  });
});
