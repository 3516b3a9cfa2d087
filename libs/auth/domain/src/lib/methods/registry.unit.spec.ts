import { AMR_VALUES, AUTH_FACTOR_KINDS } from '@tessera/contracts';
import { createHash } from 'node:crypto';
import { createAuthMethods, METHOD_DESCRIPTORS, methodDescriptor } from './registry';

describe('method registry', () => {
  it('lists exactly one method per factor kind of the contracts, in their order', () => {
    expect(METHOD_DESCRIPTORS.map((descriptor) => descriptor.id)).toEqual([...AUTH_FACTOR_KINDS]);
  });

  it('declares each method: AAL, RFC 8176 amr, guessable, restricted, phishing-resistant', () => {
    expect(Object.fromEntries(METHOD_DESCRIPTORS.map(({ id, ...rest }) => [id, rest]))).toEqual({
      totp: { aal: 2, amr: ['otp'], guessable: true, restricted: false, phishingResistant: false },
      webauthn: { aal: 3, amr: ['pop', 'user', 'mfa'], guessable: false, restricted: false, phishingResistant: true },
      backup_codes: { aal: 2, amr: ['otp'], guessable: true, restricted: false, phishingResistant: false },
      email_otp: { aal: 1, amr: ['otp'], guessable: true, restricted: true, phishingResistant: false },
      sms_otp: { aal: 2, amr: ['sms', 'otp'], guessable: true, restricted: true, phishingResistant: false },
    });
  });

  it('uses only registered RFC 8176 amr values', () => {
    for (const descriptor of METHOD_DESCRIPTORS) for (const value of descriptor.amr) expect(AMR_VALUES).toContain(value);
  });

  it('S9: only a phishing-resistant method is non-guessable, and it is never restricted', () => {
    for (const descriptor of METHOD_DESCRIPTORS) {
      expect(descriptor.guessable).toBe(!descriptor.phishingResistant);
      if (descriptor.phishingResistant) expect(descriptor.restricted).toBe(false);
    }
  });

  it('builds every method from the narrow dependencies, each carrying its own descriptor', () => {
    const methods = createAuthMethods({ outOfBandPepper: createHash('sha256').update('pepper').digest() });
    for (const kind of AUTH_FACTOR_KINDS) expect(methods[kind].descriptor).toBe(methodDescriptor(kind));
  });
});
