import { type DeviceEvent } from '@tessera/contracts';
import { fold } from '@tessera/event-sourcing';
import { defaultAaguidCatalog } from '../aaguid/aaguid-catalog';
import { devicesDecider } from '../devices/devices.decider';
import {
  backupCodesRemaining,
  deviceForCredential,
  readinessFactorsOutsideDevices,
  usableFactorsOutsideDevices,
  type CredentialFact,
} from './credential-facts';

const USER = 'user-1';
const PHONE = '0190a000-0000-7000-8000-0000000000a1';
const TOTP = '0190a000-0000-7000-8000-0000000000c1';
const KEY_CREDENTIAL = '0190a000-0000-7000-8000-0000000000c2';
const SMS = '0190a000-0000-7000-8000-0000000000c3';
const CODES = '0190a000-0000-7000-8000-0000000000c4';
const T0 = '2026-03-01T09:00:00.000Z';
const YUBIKEY_5 = 'ee882879-721c-4913-9775-3dfcce97072a';
const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const UNKNOWN = '0f0e0d0c-0b0a-0908-0706-050403020100';

const fact = (overrides: Partial<CredentialFact> & Pick<CredentialFact, 'credentialId' | 'kind'>): CredentialFact => ({
  status: 'active',
  name: null,
  aaguid: null,
  deviceBound: null,
  remainingCodes: null,
  createdAt: T0,
  ...overrides,
});

const phoneWithTotp: DeviceEvent = {
  type: 'DeviceRegistered',
  data: { userId: USER, deviceId: PHONE, kind: 'phone', name: 'Pixel', credentials: [{ credentialId: TOTP, factor: 'totp' }], aaguid: null, registeredAt: T0 },
};
const phoneLost: DeviceEvent = { type: 'DeviceReportedLost', data: { userId: USER, deviceId: PHONE, reason: 'lost', reportedAt: T0 } };

describe('the device a bound factor lives on', () => {
  it('a TOTP credential is an authenticator app on a phone, named as the user named it', () => {
    expect(deviceForCredential(fact({ credentialId: TOTP, kind: 'totp', name: 'My phone' }), defaultAaguidCatalog)).toEqual({
      kind: 'phone',
      name: 'My phone',
      aaguid: null,
      factor: 'totp',
    });
  });

  it('S20: a WebAuthn credential with a known AAGUID takes its kind from the model', () => {
    const key = deviceForCredential(fact({ credentialId: KEY_CREDENTIAL, kind: 'webauthn', aaguid: YUBIKEY_5, deviceBound: true }), defaultAaguidCatalog);
    expect(key).toEqual({ kind: 'security-key', name: 'YubiKey 5 Series', aaguid: YUBIKEY_5, factor: 'webauthn' });
    const passkey = deviceForCredential(fact({ credentialId: KEY_CREDENTIAL, kind: 'webauthn', aaguid: ICLOUD, deviceBound: false, name: 'iPhone' }), defaultAaguidCatalog);
    expect(passkey).toEqual({ kind: 'platform-passkey', name: 'iPhone', aaguid: ICLOUD, factor: 'webauthn' });
  });

  it('S20: an unknown AAGUID falls back to the backup-eligibility flag', () => {
    expect(deviceForCredential(fact({ credentialId: KEY_CREDENTIAL, kind: 'webauthn', aaguid: UNKNOWN, deviceBound: true }), defaultAaguidCatalog)?.kind).toBe('security-key');
    expect(deviceForCredential(fact({ credentialId: KEY_CREDENTIAL, kind: 'webauthn', aaguid: UNKNOWN, deviceBound: false }), defaultAaguidCatalog)?.kind).toBe(
      'platform-passkey',
    );
  });

  it('a name carrying a bidirectional override is replaced by a plain default, not shown', () => {
    const device = deviceForCredential(fact({ credentialId: TOTP, kind: 'totp', name: 'Phone\u202Egnp.exe' }), defaultAaguidCatalog);
    expect(device?.name).toBe('Authenticator app');
  });

  it('backup codes and email/SMS channels are not devices', () => {
    for (const kind of ['backup_codes', 'email_otp', 'sms_otp'] as const) {
      expect(deviceForCredential(fact({ credentialId: SMS, kind }), defaultAaguidCatalog)).toBeNull();
    }
  });
});

describe('factors outside devices (S24 counting)', () => {
  const state = fold(devicesDecider, [phoneWithTotp]);

  it('S24: counts a code set with codes left and unbound channels, not credentials on devices', () => {
    const facts = [
      fact({ credentialId: TOTP, kind: 'totp' }),
      fact({ credentialId: SMS, kind: 'sms_otp' }),
      fact({ credentialId: CODES, kind: 'backup_codes', remainingCodes: 4 }),
    ];
    expect(usableFactorsOutsideDevices(state, facts)).toBe(2);
    expect(backupCodesRemaining(facts)).toBe(4);
    expect(readinessFactorsOutsideDevices(state, facts).map((factor) => factor.credentialId)).toEqual([SMS]);
  });

  it('S24: an exhausted code set, a pending or a revoked credential is not usable', () => {
    const facts = [
      fact({ credentialId: CODES, kind: 'backup_codes', remainingCodes: 0 }),
      fact({ credentialId: SMS, kind: 'sms_otp', status: 'revoked' }),
      fact({ credentialId: KEY_CREDENTIAL, kind: 'webauthn', status: 'pending' }),
    ];
    expect(usableFactorsOutsideDevices(state, facts)).toBe(0);
  });

  it('S24: a credential on a lost device counts neither on the device nor outside it', () => {
    const lost = fold(devicesDecider, [phoneWithTotp, phoneLost]);
    expect(usableFactorsOutsideDevices(lost, [fact({ credentialId: TOTP, kind: 'totp' })])).toBe(0);
  });
});
