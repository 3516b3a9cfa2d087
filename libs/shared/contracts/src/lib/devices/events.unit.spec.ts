import { type z } from 'zod';
import { DEVICE_EVENT_SCHEMAS, DEVICE_EVENT_TYPES, deviceStreamId, parseDeviceEvent, type DeviceEventType } from './events';

const USER = 'user-1';
const ID = '0190a000-0000-7000-8000-000000000001';
const AT = '2026-03-01T09:00:00.000Z';

/** One valid `data` per event type. */
const valid: { [T in DeviceEventType]: z.input<(typeof DEVICE_EVENT_SCHEMAS)[T]> } = {
  DeviceRegistered: {
    userId: USER,
    deviceId: ID,
    kind: 'security-key',
    name: 'YubiKey',
    credentials: [{ credentialId: ID, factor: 'webauthn' }],
    aaguid: '00000000-0000-0000-0000-000000000000',
    registeredAt: AT,
  },
  DeviceRenamed: { userId: USER, deviceId: ID, name: 'New', previousName: 'Old' },
  DeviceReportedLost: { userId: USER, deviceId: ID, reason: 'stolen', reportedAt: AT },
  DeviceRevoked: { userId: USER, deviceId: ID, reason: 'recovery', referenceId: 'rec-1', credentialIds: [ID], revokedAt: AT },
  DeviceUsed: { userId: USER, deviceId: ID, credentialId: ID, usedAt: AT, whileReportedLost: false },
  CredentialBoundToDevice: { userId: USER, deviceId: ID, credentialId: ID, factor: 'totp', boundAt: AT },
  CredentialUnboundFromDevice: { userId: USER, deviceId: ID, credentialId: ID, reason: 'credential_revoked', unboundAt: AT },
  VaultBackupStored: { userId: USER, backupId: ID, formatVersion: 1, sizeBytes: 100, deviceId: null, replacesBackupId: null, storedAt: AT },
  VaultBackupRestored: { userId: USER, backupId: ID, deviceId: ID, restoredAt: AT },
  RecoveryReadinessDropped: { userId: USER, previousLevel: 'good', level: 'poor', score: 55, findings: ['only_one_factor'], assessedAt: AT },
};

describe('device integration events', () => {
  it.each(DEVICE_EVENT_TYPES)('%s: a valid example parses', (type) => {
    expect(parseDeviceEvent(type, valid[type])).toEqual({ type, data: valid[type] });
  });

  it.each(DEVICE_EVENT_TYPES)('%s: userId is required (the Kafka key)', (type) => {
    const { userId: _userId, ...withoutUser } = valid[type] as Record<string, unknown>;
    expect(() => parseDeviceEvent(type, withoutUser)).toThrow();
  });

  it.each(DEVICE_EVENT_TYPES)('S29: %s refuses a field its contract does not name (no secret can ride along)', (type) => {
    for (const smuggled of ['secret', 'blob', 'ciphertext', 'passphrase']) {
      expect(() => parseDeviceEvent(type, { ...valid[type], [smuggled]: 'c2VjcmV0' })).toThrow();
    }
  });

  it('S29: no device event field is named like a secret or carries vault content', () => {
    const names = Object.values(DEVICE_EVENT_SCHEMAS).flatMap((schema) => Object.keys(schema.shape));
    expect(names.filter((name) => /secret|seed|code|passphrase|password|blob|ciphertext|key|salt|nonce|tag|tap/i.test(name))).toEqual([]);
  });

  it('refuses an unknown type and a malformed id', () => {
    expect(() => parseDeviceEvent('DeviceExploded', {})).toThrow(/unknown device event type/);
    expect(() => parseDeviceEvent('DeviceRenamed', { ...valid.DeviceRenamed, deviceId: 'phone-1' })).toThrow();
  });

  it('refuses a vault backup larger than the vault format allows', () => {
    expect(() => parseDeviceEvent('VaultBackupStored', { ...valid.VaultBackupStored, sizeBytes: 8 * 1024 * 1024 + 1 })).toThrow();
  });

  it('names the stream after the user', () => {
    expect(deviceStreamId('u-1')).toBe('devices-user-u-1');
  });
});
