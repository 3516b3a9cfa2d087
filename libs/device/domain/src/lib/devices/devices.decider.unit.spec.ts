import { type DeviceEvent } from '@tessera/contracts';
import { fold } from '@tessera/event-sourcing';
import { deciderSpec } from '@tessera/testing';
import { devicesDecider, type DeviceCommand, type RevocationContext } from './devices.decider';

const spec = deciderSpec(devicesDecider);

const USER = 'user-7f3a';
const PHONE = '0190a000-0000-7000-8000-0000000000a1';
const KEY = '0190a000-0000-7000-8000-0000000000a2';
const LAPTOP = '0190a000-0000-7000-8000-0000000000a3';
const TOTP_ON_PHONE = '0190a000-0000-7000-8000-0000000000c1';
const PASSKEY_ON_PHONE = '0190a000-0000-7000-8000-0000000000c2';
const WEBAUTHN_ON_KEY = '0190a000-0000-7000-8000-0000000000c3';
const NEW_CREDENTIAL = '0190a000-0000-7000-8000-0000000000c4';
const BACKUP_1 = '0190a000-0000-7000-8000-0000000000b1';
const BACKUP_2 = '0190a000-0000-7000-8000-0000000000b2';
const YUBIKEY_5 = 'ee882879-721c-4913-9775-3dfcce97072a';

const T0 = '2026-03-01T09:00:00.000Z';
const now = new Date('2026-03-02T10:00:00.000Z');
const NOW = now.toISOString();
const metadata = { now };

// ---- events (Given) ----
const phoneRegistered: DeviceEvent = {
  type: 'DeviceRegistered',
  data: {
    userId: USER,
    deviceId: PHONE,
    kind: 'phone',
    name: 'Pixel 9',
    credentials: [{ credentialId: TOTP_ON_PHONE, factor: 'totp' }],
    aaguid: null,
    registeredAt: T0,
  },
};
const keyRegistered: DeviceEvent = {
  type: 'DeviceRegistered',
  data: {
    userId: USER,
    deviceId: KEY,
    kind: 'security-key',
    name: 'YubiKey',
    credentials: [{ credentialId: WEBAUTHN_ON_KEY, factor: 'webauthn' }],
    aaguid: YUBIKEY_5,
    registeredAt: T0,
  },
};
const laptopRegisteredBare: DeviceEvent = {
  type: 'DeviceRegistered',
  data: { userId: USER, deviceId: LAPTOP, kind: 'desktop', name: 'Work laptop', credentials: [], aaguid: null, registeredAt: T0 },
};
const phoneLost = (reason: 'lost' | 'stolen'): DeviceEvent => ({
  type: 'DeviceReportedLost',
  data: { userId: USER, deviceId: PHONE, reason, reportedAt: T0 },
});
const keyLost: DeviceEvent = { type: 'DeviceReportedLost', data: { userId: USER, deviceId: KEY, reason: 'lost', reportedAt: T0 } };
const phoneRevoked: DeviceEvent = {
  type: 'DeviceRevoked',
  data: { userId: USER, deviceId: PHONE, reason: 'user_removed', referenceId: null, credentialIds: [TOTP_ON_PHONE], revokedAt: T0 },
};
const phoneUsedAt = (usedAt: string): DeviceEvent => ({
  type: 'DeviceUsed',
  data: { userId: USER, deviceId: PHONE, credentialId: TOTP_ON_PHONE, usedAt, whileReportedLost: false },
});
const totpUnbound: DeviceEvent = {
  type: 'CredentialUnboundFromDevice',
  data: { userId: USER, deviceId: PHONE, credentialId: TOTP_ON_PHONE, reason: 'credential_revoked', unboundAt: T0 },
};
const backupStored: DeviceEvent = {
  type: 'VaultBackupStored',
  data: { userId: USER, backupId: BACKUP_1, formatVersion: 1, sizeBytes: 17_334, deviceId: PHONE, replacesBackupId: null, storedAt: T0 },
};

// ---- commands (When) ----
const register = (overrides: Partial<Extract<DeviceCommand, { type: 'RegisterDevice' }>['data']> = {}): DeviceCommand => ({
  type: 'RegisterDevice',
  data: {
    userId: USER,
    deviceId: KEY,
    kind: 'security-key',
    name: 'YubiKey',
    credentials: [{ credentialId: WEBAUTHN_ON_KEY, factor: 'webauthn' }],
    aaguid: YUBIKEY_5,
    ...overrides,
  },
  metadata,
});
const rename = (deviceId: string, name: string): DeviceCommand => ({ type: 'RenameDevice', data: { userId: USER, deviceId, name }, metadata });
const reportLost = (deviceId: string, reason: 'lost' | 'stolen'): DeviceCommand => ({
  type: 'ReportDeviceLost',
  data: { userId: USER, deviceId, reason },
  metadata,
});
const revoke = (deviceId: string, context: RevocationContext = { kind: 'self_service' }, usableFactorsOutsideDevices = 0): DeviceCommand => ({
  type: 'RevokeDevice',
  data: { userId: USER, deviceId, context, usableFactorsOutsideDevices },
  metadata,
});
const use = (deviceId: string, credentialId: string, usedAt: Date): DeviceCommand => ({
  type: 'RecordDeviceUse',
  data: { userId: USER, deviceId, credentialId, usedAt },
  metadata,
});
const bind = (deviceId: string, credentialId: string): DeviceCommand => ({
  type: 'BindCredentialToDevice',
  data: { userId: USER, deviceId, credentialId, factor: 'webauthn' },
  metadata,
});
const unbind = (credentialId: string): DeviceCommand => ({ type: 'UnbindCredential', data: { userId: USER, credentialId }, metadata });
const storeBackup = (backupId: string, deviceId: string | null = PHONE): DeviceCommand => ({
  type: 'StoreVaultBackup',
  data: { userId: USER, backupId, formatVersion: 1, sizeBytes: 20_000, deviceId },
  metadata,
});
const restoreBackup = (backupId: string, deviceId: string | null = LAPTOP): DeviceCommand => ({
  type: 'RecordVaultRestore',
  data: { userId: USER, backupId, deviceId },
  metadata,
});

describe('devices decider', () => {
  describe('when the user has no devices', () => {
    it('registers a device with its credentials, lower-casing the AAGUID', () => {
      spec
        .given([])
        .when(register({ aaguid: YUBIKEY_5.toUpperCase(), name: '  YubiKey  ' }))
        .then([
          {
            type: 'DeviceRegistered',
            data: {
              userId: USER,
              deviceId: KEY,
              kind: 'security-key',
              name: 'YubiKey',
              credentials: [{ credentialId: WEBAUTHN_ON_KEY, factor: 'webauthn' }],
              aaguid: YUBIKEY_5,
              registeredAt: NOW,
            },
          },
        ]);
    });

    it.each([
      ['empty', '   '],
      ['too long', 'x'.repeat(65)],
      ['with a control character', 'Phone\u0007'],
      ['with a bidirectional override (Trojan Source)', 'Phone \u202Eenohp'],
    ])('refuses a name that is %s', (_case, name) => {
      spec.given([]).when(register({ name })).thenThrows('invalid_device_name');
    });

    it('refuses a credential listed twice', () => {
      const credential = { credentialId: WEBAUTHN_ON_KEY, factor: 'webauthn' as const };
      spec.given([]).when(register({ credentials: [credential, credential] })).thenThrows('duplicate_credential');
    });

    it('refuses ids that are not UUIDs, through the event contract', () => {
      spec.given([]).when(register({ deviceId: 'not-a-uuid' })).thenThrows('invalid_command');
      spec.given([]).when(register({ aaguid: 'yubikey' })).thenThrows('invalid_command');
    });

    it.each([
      ['rename', rename(PHONE, 'x')],
      ['report lost', reportLost(PHONE, 'lost')],
      ['revoke', revoke(PHONE)],
      ['record a use', use(PHONE, TOTP_ON_PHONE, now)],
      ['bind a credential', bind(PHONE, NEW_CREDENTIAL)],
    ])('cannot %s a device it does not know', (_case, command) => {
      spec.given([]).when(command).thenThrows('device_not_found');
    });

    it('stores a first vault backup (ids and sizes only)', () => {
      spec
        .given([])
        .when(storeBackup(BACKUP_1, null))
        .then([
          {
            type: 'VaultBackupStored',
            data: { userId: USER, backupId: BACKUP_1, formatVersion: 1, sizeBytes: 20_000, deviceId: null, replacesBackupId: null, storedAt: NOW },
          },
        ]);
    });

    it('refuses a vault backup larger than the format allows', () => {
      const huge: DeviceCommand = {
        type: 'StoreVaultBackup',
        data: { userId: USER, backupId: BACKUP_1, formatVersion: 1, sizeBytes: 9 * 1024 * 1024, deviceId: null },
        metadata,
      };
      spec.given([]).when(huge).thenThrows('invalid_command');
    });

    it('has no backup to restore', () => {
      spec.given([]).when(restoreBackup(BACKUP_1, null)).thenThrows('vault_backup_not_found');
    });

    it('ignores the revocation of a credential no device holds', () => {
      spec.given([]).when(unbind(NEW_CREDENTIAL)).then([]);
    });
  });

  describe('when a device is active', () => {
    it('renames it, recording the previous name', () => {
      spec
        .given([phoneRegistered])
        .when(rename(PHONE, 'Personal phone'))
        .then([{ type: 'DeviceRenamed', data: { userId: USER, deviceId: PHONE, name: 'Personal phone', previousName: 'Pixel 9' } }]);
    });

    it('does nothing when renamed to the same name', () => {
      spec.given([phoneRegistered]).when(rename(PHONE, ' Pixel 9 ')).then([]);
    });

    it('refuses a second registration with the same id', () => {
      spec.given([phoneRegistered]).when(register({ deviceId: PHONE })).thenThrows('device_already_registered');
    });

    it('refuses to register another device with a credential this one holds', () => {
      spec
        .given([phoneRegistered])
        .when(register({ credentials: [{ credentialId: TOTP_ON_PHONE, factor: 'totp' }] }))
        .thenThrows('credential_already_bound');
    });

    it('refuses a command for another user', () => {
      spec
        .given([phoneRegistered])
        .when({ type: 'RenameDevice', data: { userId: 'someone-else', deviceId: PHONE, name: 'x' }, metadata })
        .thenThrows('stream_user_mismatch');
    });

    it('is reported lost or stolen', () => {
      spec
        .given([phoneRegistered])
        .when(reportLost(PHONE, 'stolen'))
        .then([{ type: 'DeviceReportedLost', data: { userId: USER, deviceId: PHONE, reason: 'stolen', reportedAt: NOW } }]);
    });

    it('records a use with the verification time', () => {
      const usedAt = new Date('2026-03-02T09:59:58.000Z');
      spec
        .given([phoneRegistered])
        .when(use(PHONE, TOTP_ON_PHONE, usedAt))
        .then([
          {
            type: 'DeviceUsed',
            data: { userId: USER, deviceId: PHONE, credentialId: TOTP_ON_PHONE, usedAt: usedAt.toISOString(), whileReportedLost: false },
          },
        ]);
    });

    it('ignores a use older than or equal to the last one (redelivery, reordering)', () => {
      const last = '2026-03-02T09:00:00.000Z';
      spec.given([phoneRegistered, phoneUsedAt(last)]).when(use(PHONE, TOTP_ON_PHONE, new Date(last))).then([]);
      spec.given([phoneRegistered, phoneUsedAt(last)]).when(use(PHONE, TOTP_ON_PHONE, new Date('2026-03-02T08:00:00.000Z'))).then([]);
    });

    it('refuses a use through a credential the device does not hold', () => {
      spec.given([phoneRegistered, keyRegistered]).when(use(PHONE, WEBAUTHN_ON_KEY, now)).thenThrows('credential_not_on_device');
    });

    it('binds a new credential, once', () => {
      spec
        .given([phoneRegistered])
        .when(bind(PHONE, PASSKEY_ON_PHONE))
        .then([{ type: 'CredentialBoundToDevice', data: { userId: USER, deviceId: PHONE, credentialId: PASSKEY_ON_PHONE, factor: 'webauthn', boundAt: NOW } }]);
      spec
        .given([
          phoneRegistered,
          { type: 'CredentialBoundToDevice', data: { userId: USER, deviceId: PHONE, credentialId: PASSKEY_ON_PHONE, factor: 'webauthn', boundAt: T0 } },
        ])
        .when(bind(PHONE, PASSKEY_ON_PHONE))
        .then([]);
    });

    it('refuses to bind a credential another device holds', () => {
      spec.given([phoneRegistered, keyRegistered]).when(bind(PHONE, WEBAUTHN_ON_KEY)).thenThrows('credential_already_bound');
    });

    it('unbinds a credential auth-service revoked', () => {
      spec.given([phoneRegistered]).when(unbind(TOTP_ON_PHONE)).then([{ ...totpUnbound, data: { ...totpUnbound.data, unboundAt: NOW } }]);
      spec.given([phoneRegistered, totpUnbound]).when(unbind(TOTP_ON_PHONE)).then([]);
    });

    it('revokes a device whose factors are not the last, listing the credentials that stop working (S23)', () => {
      spec
        .given([phoneRegistered, keyRegistered])
        .when(revoke(PHONE))
        .then([
          {
            type: 'DeviceRevoked',
            data: { userId: USER, deviceId: PHONE, reason: 'user_removed', referenceId: null, credentialIds: [TOTP_ON_PHONE], revokedAt: NOW },
          },
        ]);
    });
  });

  describe('S24: when the device holds the last usable factor', () => {
    it('S24: refuses a self-service revocation', () => {
      spec.given([phoneRegistered]).when(revoke(PHONE)).thenThrows('last_factor');
    });

    it('S24: refuses it during an incident too (an incident must run a recovery to go further)', () => {
      spec.given([phoneRegistered]).when(revoke(PHONE, { kind: 'incident', incidentId: 'inc-1' })).thenThrows('last_factor');
    });

    it('S24: refuses it when the only other device is lost (its credentials cannot get the user in)', () => {
      spec.given([phoneRegistered, keyRegistered, keyLost]).when(revoke(PHONE)).thenThrows('last_factor');
    });

    it('S24: refuses it when the other device holds no credential', () => {
      spec.given([phoneRegistered, laptopRegisteredBare]).when(revoke(PHONE)).thenThrows('last_factor');
    });

    it('S24: allows it inside a recovery, naming the recovery', () => {
      spec
        .given([phoneRegistered])
        .when(revoke(PHONE, { kind: 'recovery', recoveryId: 'rec-42' }))
        .then([
          {
            type: 'DeviceRevoked',
            data: { userId: USER, deviceId: PHONE, reason: 'recovery', referenceId: 'rec-42', credentialIds: [TOTP_ON_PHONE], revokedAt: NOW },
          },
        ]);
    });

    it('S24: allows it when a factor outside devices remains (backup codes)', () => {
      const events = spec.given([phoneRegistered]).when(revoke(PHONE, { kind: 'self_service' }, 1)).thenEvents();
      expect(events.map((event) => event.type)).toEqual(['DeviceRevoked']);
    });

    it('S24: allows it once auth-service has removed the credential from the device', () => {
      const events = spec.given([phoneRegistered, totpUnbound]).when(revoke(PHONE)).thenEvents();
      expect(events).toEqual([
        { type: 'DeviceRevoked', data: { userId: USER, deviceId: PHONE, reason: 'user_removed', referenceId: null, credentialIds: [], revokedAt: NOW } },
      ]);
    });

    it('S24: allows revoking a device that holds no credential', () => {
      expect(spec.given([phoneRegistered, laptopRegisteredBare]).when(revoke(LAPTOP)).thenEvents()).toHaveLength(1);
    });

    it('S24: refuses a factor count that is not a non-negative integer', () => {
      spec.given([phoneRegistered, keyRegistered]).when(revoke(PHONE, { kind: 'self_service' }, -1)).thenThrows('invalid_factor_count');
    });
  });

  describe('when a device is reported lost', () => {
    it('S24: can be revoked even when it held the last factor: it no longer gets the user in, and someone may have it', () => {
      spec
        .given([phoneRegistered, phoneLost('stolen')])
        .when(revoke(PHONE))
        .then([
          {
            type: 'DeviceRevoked',
            data: { userId: USER, deviceId: PHONE, reason: 'user_removed', referenceId: null, credentialIds: [TOTP_ON_PHONE], revokedAt: NOW },
          },
        ]);
    });

    it('records a use, flagged as happening while reported lost', () => {
      const [event] = spec.given([phoneRegistered, phoneLost('lost')]).when(use(PHONE, TOTP_ON_PHONE, now)).thenEvents();
      expect(event).toEqual({
        type: 'DeviceUsed',
        data: { userId: USER, deviceId: PHONE, credentialId: TOTP_ON_PHONE, usedAt: NOW, whileReportedLost: true },
      });
    });

    it('escalates lost to stolen, but never stolen back to lost, and ignores a repeat', () => {
      expect(spec.given([phoneRegistered, phoneLost('lost')]).when(reportLost(PHONE, 'stolen')).thenEvents()).toHaveLength(1);
      spec.given([phoneRegistered, phoneLost('stolen')]).when(reportLost(PHONE, 'lost')).then([]);
      spec.given([phoneRegistered, phoneLost('lost')]).when(reportLost(PHONE, 'lost')).then([]);
    });

    it('takes no new credentials', () => {
      spec.given([phoneRegistered, phoneLost('lost')]).when(bind(PHONE, NEW_CREDENTIAL)).thenThrows('device_reported_lost');
    });

    it('can still be renamed', () => {
      expect(spec.given([phoneRegistered, phoneLost('lost')]).when(rename(PHONE, 'Old phone')).thenEvents()).toHaveLength(1);
    });
  });

  describe('when a device is revoked', () => {
    const given = [phoneRegistered, keyRegistered, phoneRevoked];

    it.each([
      ['renamed', rename(PHONE, 'Again')],
      ['used', use(PHONE, TOTP_ON_PHONE, now)],
      ['given a credential', bind(PHONE, NEW_CREDENTIAL)],
      ['reported lost', reportLost(PHONE, 'stolen')],
      ['named as the device storing a backup', storeBackup(BACKUP_1, PHONE)],
    ])('cannot be %s', (_case, command) => {
      spec.given(given).when(command).thenThrows('device_revoked');
    });

    it('revoking it again changes nothing', () => {
      spec.given(given).when(revoke(PHONE)).then([]);
    });

    it('its credentials cannot be moved to a new device', () => {
      spec
        .given(given)
        .when(register({ deviceId: LAPTOP, kind: 'desktop', credentials: [{ credentialId: TOTP_ON_PHONE, factor: 'totp' }], aaguid: null }))
        .thenThrows('credential_already_bound');
    });

    it('no longer counts towards the user’s usable factors (S24 on the remaining key)', () => {
      spec.given(given).when(revoke(KEY)).thenThrows('last_factor');
    });
  });

  describe('when a vault backup is stored', () => {
    const given = [phoneRegistered, laptopRegisteredBare, backupStored];

    it('a retry with the same backup id changes nothing', () => {
      spec.given(given).when(storeBackup(BACKUP_1)).then([]);
    });

    it('a new backup replaces it', () => {
      const [event] = spec.given(given).when(storeBackup(BACKUP_2)).thenEvents();
      expect(event).toEqual({
        type: 'VaultBackupStored',
        data: { userId: USER, backupId: BACKUP_2, formatVersion: 1, sizeBytes: 20_000, deviceId: PHONE, replacesBackupId: BACKUP_1, storedAt: NOW },
      });
    });

    it('records a restore onto a device (rung 3 of the ladder counts as a new binding)', () => {
      spec
        .given(given)
        .when(restoreBackup(BACKUP_1, LAPTOP))
        .then([{ type: 'VaultBackupRestored', data: { userId: USER, backupId: BACKUP_1, deviceId: LAPTOP, restoredAt: NOW } }]);
    });

    it('cannot restore a backup that was replaced', () => {
      const replaced: DeviceEvent = { type: 'VaultBackupStored', data: { ...backupStored.data, backupId: BACKUP_2, replacesBackupId: BACKUP_1 } } as DeviceEvent;
      spec.given([...given, replaced]).when(restoreBackup(BACKUP_1)).thenThrows('vault_backup_not_found');
    });
  });

  describe('evolve', () => {
    it('folds a history into each device’s status, credentials and last use', () => {
      const state = fold(devicesDecider, [
        phoneRegistered,
        keyRegistered,
        phoneUsedAt('2026-03-01T10:00:00.000Z'),
        { type: 'CredentialBoundToDevice', data: { userId: USER, deviceId: PHONE, credentialId: PASSKEY_ON_PHONE, factor: 'webauthn', boundAt: '2026-03-01T11:00:00.000Z' } },
        phoneLost('stolen'),
        keyLost,
        { type: 'DeviceRevoked', data: { userId: USER, deviceId: KEY, reason: 'recovery', referenceId: 'rec-1', credentialIds: [WEBAUTHN_ON_KEY], revokedAt: '2026-03-01T12:00:00.000Z' } },
        backupStored,
        { type: 'VaultBackupRestored', data: { userId: USER, backupId: BACKUP_1, deviceId: null, restoredAt: '2026-03-01T13:00:00.000Z' } },
      ]);
      expect(state).toEqual({
        status: 'tracked',
        userId: USER,
        devices: {
          [PHONE]: {
            status: 'lost',
            lossReason: 'stolen',
            reportedAt: T0,
            deviceId: PHONE,
            kind: 'phone',
            name: 'Pixel 9',
            credentials: [
              { credentialId: TOTP_ON_PHONE, factor: 'totp', boundAt: T0 },
              { credentialId: PASSKEY_ON_PHONE, factor: 'webauthn', boundAt: '2026-03-01T11:00:00.000Z' },
            ],
            aaguid: null,
            registeredAt: T0,
            lastUsedAt: '2026-03-01T10:00:00.000Z',
          },
          [KEY]: {
            status: 'revoked',
            revocationReason: 'recovery',
            revokedAt: '2026-03-01T12:00:00.000Z',
            deviceId: KEY,
            kind: 'security-key',
            name: 'YubiKey',
            credentials: [{ credentialId: WEBAUTHN_ON_KEY, factor: 'webauthn', boundAt: T0 }],
            aaguid: YUBIKEY_5,
            registeredAt: T0,
            lastUsedAt: null,
          },
        },
        vaultBackup: { backupId: BACKUP_1, formatVersion: 1, sizeBytes: 17_334, deviceId: PHONE, storedAt: T0, lastRestoredAt: '2026-03-01T13:00:00.000Z' },
      });
    });
  });
});
