import { type AuthEvent, parseAuthEvent } from '@tessera/contracts';
import { AUTH_SERVICE_PRINCIPAL, LINKED_AUTH_EVENT_TYPES, linkedStep } from './auth-link';

const userId = 'user-1';
const credentialId = '01900000-0000-7000-8000-000000000001';
const passId = '01900000-0000-7000-8000-0000000000aa';
const recovery = { recoveryId: 'rec-1', passId };
const event = (type: string, data: Record<string, unknown>): AuthEvent => parseAuthEvent(type, data);

describe('auth events a recovery waits for', () => {
  it('S25: a redeemed pass is the recovery’s RedeemTemporaryAccessPass, with the pass id only', () => {
    expect(linkedStep(event('TemporaryAccessPassConsumed', { userId, passId, recoveryId: 'rec-1' }))).toEqual({
      userId,
      recoveryId: 'rec-1',
      step: { type: 'RedeemTemporaryAccessPass', passId },
    });
  });

  it('S21: a TOTP app confirmed, or a key registered, with the recovery’s pass is its RecordEnrolment', () => {
    expect(linkedStep(event('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 7, recovery }))).toEqual({
      userId,
      recoveryId: 'rec-1',
      step: { type: 'RecordEnrolment', passId, factorId: credentialId, factorKind: 'totp' },
    });
    const key = { userId, credentialId, name: 'Key', aaguid: '00000000-0000-0000-0000-000000000000', deviceBound: true, signCount: 0, recovery };
    expect(linkedStep(event('WebAuthnCredentialRegistered', key))?.step).toEqual({ type: 'RecordEnrolment', passId, factorId: credentialId, factorKind: 'webauthn' });
  });

  it('bindings inside an ordinary step-up, a TOTP app not yet confirmed, and every other event stand for no step', () => {
    expect(linkedStep(event('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 7 }))).toBeNull();
    expect(linkedStep(event('TotpEnrolled', { userId, credentialId, name: 'Phone', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated', recovery }))).toBeNull();
    expect(linkedStep(event('CredentialRevoked', { userId, credentialId, kind: 'totp', reason: 'recovery', referenceId: 'rec-1' }))).toBeNull();
    expect([...LINKED_AUTH_EVENT_TYPES].sort()).toEqual(['TemporaryAccessPassConsumed', 'TotpConfirmed', 'WebAuthnCredentialRegistered']);
  });

  it('the steps are taken as auth-service, with only the scope its own calls of them need', () => {
    expect(AUTH_SERVICE_PRINCIPAL).toEqual({ subject: 'auth-service', roles: ['service'], scopes: ['recoveries:enrol'] });
  });
});
