import { DEVICE_EVENT_SCHEMAS, type DeviceEvent, type ReadinessFinding, type ReadinessLevel } from '@tessera/contracts';
import { fold } from '@tessera/event-sourcing';
import { devicesDecider } from '../devices/devices.decider';
import {
  DEFAULT_READINESS_POLICY,
  assessReadiness,
  levelFor,
  readinessDrop,
  readinessInputFromDevices,
  type ReadinessFactor,
  type ReadinessInput,
} from './readiness';

const now = new Date('2026-06-01T00:00:00.000Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * 60 * 60 * 1000).toISOString();

let next = 0;
const factor = (kind: ReadinessFactor['factor'], extra: Partial<ReadinessFactor> = {}): ReadinessFactor => ({
  credentialId: `c${++next}`,
  factor: kind,
  hardware: false,
  boundAt: daysAgo(200),
  ...extra,
});
const totp = () => factor('totp');
const passkey = () => factor('webauthn');
const securityKey = () => factor('webauthn', { hardware: true });
const sms = () => factor('sms_otp');
const email = () => factor('email_otp');
const freshVault = { storedAt: daysAgo(10) };

const input = (overrides: Partial<ReadinessInput>): ReadinessInput => ({
  factors: [],
  backupCodesRemaining: 10,
  vaultBackup: null,
  now,
  ...overrides,
});

describe('recovery readiness', () => {
  describe('findings, score and level', () => {
    it.each<[string, Partial<ReadinessInput>, ReadinessFinding[], number, ReadinessLevel]>([
      ['every rung in place', { factors: [totp(), securityKey()], vaultBackup: freshVault }, [], 100, 'good'],
      ['two factors, codes, no security key or vault', { factors: [totp(), passkey()] }, ['no_hardware_key', 'no_vault_backup'], 85, 'good'],
      ['no TOTP, so no vault is needed', { factors: [passkey(), securityKey()] }, [], 100, 'good'],
      ['few backup codes left', { factors: [totp(), securityKey()], vaultBackup: freshVault, backupCodesRemaining: 3 }, ['few_backup_codes_left'], 90, 'good'],
      ['four codes are not few', { factors: [totp(), securityKey()], vaultBackup: freshVault, backupCodesRemaining: 4 }, [], 100, 'good'],
      [
        'no backup codes left',
        { factors: [totp(), passkey()], vaultBackup: freshVault, backupCodesRemaining: 0 },
        ['no_backup_codes_left', 'no_hardware_key'],
        70,
        'fair',
      ],
      ['only SMS and email', { factors: [sms(), email()] }, ['only_restricted_factors', 'no_hardware_key'], 75, 'fair'],
      ['one TOTP app with codes and a vault', { factors: [totp()], vaultBackup: freshVault }, ['only_one_factor', 'no_hardware_key'], 55, 'poor'],
      ['only one SMS number, with codes', { factors: [sms()] }, ['only_one_factor', 'only_restricted_factors', 'no_hardware_key'], 35, 'poor'],
      [
        'one TOTP app and nothing else',
        { factors: [totp()], backupCodesRemaining: 0 },
        ['only_one_factor', 'no_backup_codes_left', 'no_hardware_key', 'no_vault_backup'],
        20,
        'at_risk',
      ],
      ['no usable factor at all', { factors: [], backupCodesRemaining: 10 }, ['only_one_factor', 'no_hardware_key'], 0, 'at_risk'],
      [
        'a vault older than 90 days',
        { factors: [totp(), securityKey()], vaultBackup: { storedAt: daysAgo(91) } },
        ['vault_backup_stale'],
        95,
        'good',
      ],
      ['a vault exactly 90 days old is not stale yet', { factors: [totp(), securityKey()], vaultBackup: { storedAt: daysAgo(90) } }, [], 100, 'good'],
      [
        'a vault made before the newest TOTP was enrolled',
        { factors: [totp(), factor('totp', { boundAt: daysAgo(2) }), securityKey()], vaultBackup: freshVault },
        ['vault_backup_stale'],
        95,
        'good',
      ],
    ])('%s', (_case, overrides, findings, score, level) => {
      expect(assessReadiness(input(overrides))).toEqual({ findings, score, level });
    });

    it('the staleness age is configurable', () => {
      const vaultBackup = { storedAt: daysAgo(31) };
      const factors = [totp(), securityKey()];
      expect(assessReadiness(input({ factors, vaultBackup })).findings).toEqual([]);
      expect(assessReadiness(input({ factors, vaultBackup }), { ...DEFAULT_READINESS_POLICY, vaultStaleAfterDays: 30 }).findings).toEqual([
        'vault_backup_stale',
      ]);
    });

    it('bands the score as documented', () => {
      expect([100, 85, 84, 60, 59, 35, 34, 0].map(levelFor)).toEqual(['good', 'good', 'fair', 'fair', 'poor', 'poor', 'at_risk', 'at_risk']);
    });
  });

  describe('input from the device stream', () => {
    const USER = 'user-1';
    const PHONE = '0190a000-0000-7000-8000-0000000000a1';
    const KEY = '0190a000-0000-7000-8000-0000000000a2';
    const events: DeviceEvent[] = [
      {
        type: 'DeviceRegistered',
        data: {
          userId: USER,
          deviceId: PHONE,
          kind: 'phone',
          name: 'Phone',
          credentials: [{ credentialId: '0190a000-0000-7000-8000-0000000000c1', factor: 'totp' }],
          aaguid: null,
          registeredAt: daysAgo(100),
        },
      },
      {
        type: 'DeviceRegistered',
        data: {
          userId: USER,
          deviceId: KEY,
          kind: 'security-key',
          name: 'Key',
          credentials: [{ credentialId: '0190a000-0000-7000-8000-0000000000c2', factor: 'webauthn' }],
          aaguid: null,
          registeredAt: daysAgo(100),
        },
      },
    ];

    it('counts credentials on active devices, and a WebAuthn credential on a security key as hardware', () => {
      const state = fold(devicesDecider, events);
      expect(assessReadiness(readinessInputFromDevices(state, { backupCodesRemaining: 10, now })).findings).toEqual(['no_vault_backup']);
    });

    it('drops a lost device’s credentials: losing the key leaves one factor and no hardware key', () => {
      const lost: DeviceEvent = { type: 'DeviceReportedLost', data: { userId: USER, deviceId: KEY, reason: 'lost', reportedAt: daysAgo(1) } };
      const state = fold(devicesDecider, [...events, lost]);
      const assessment = assessReadiness(readinessInputFromDevices(state, { backupCodesRemaining: 10, now }));
      expect(assessment.findings).toEqual(['only_one_factor', 'no_hardware_key', 'no_vault_backup']);
      expect(assessment.level).toBe('poor');
    });

    it('takes the vault backup’s age from the stream and factors outside devices from the caller', () => {
      const stored: DeviceEvent = {
        type: 'VaultBackupStored',
        data: {
          userId: USER,
          backupId: '0190a000-0000-7000-8000-0000000000b1',
          formatVersion: 1,
          sizeBytes: 1000,
          deviceId: null,
          replacesBackupId: null,
          storedAt: daysAgo(120),
        },
      };
      const state = fold(devicesDecider, [...events, stored]);
      const input = readinessInputFromDevices(state, { backupCodesRemaining: 2, otherFactors: [email()], now });
      expect(input.factors).toHaveLength(3);
      expect(assessReadiness(input).findings).toEqual(['few_backup_codes_left', 'vault_backup_stale']);
    });
  });

  describe('RecoveryReadinessDropped', () => {
    const poor = assessReadiness(input({ factors: [totp()], vaultBackup: freshVault }));
    const good = assessReadiness(input({ factors: [totp(), securityKey()], vaultBackup: freshVault }));
    const meta = { userId: 'user-1', now };

    it('is emitted when the level goes down, with the findings behind it', () => {
      const event = readinessDrop('good', poor, meta);
      expect(event).toEqual({
        type: 'RecoveryReadinessDropped',
        data: { userId: 'user-1', previousLevel: 'good', level: 'poor', score: 55, findings: ['only_one_factor', 'no_hardware_key'], assessedAt: now.toISOString() },
      });
      expect(() => DEVICE_EVENT_SCHEMAS.RecoveryReadinessDropped.parse(event?.data)).not.toThrow();
    });

    it.each<[ReadinessLevel | null, 'poor' | 'good']>([
      ['poor', 'poor'],
      ['at_risk', 'poor'],
      ['fair', 'good'],
      [null, 'poor'],
    ])('is not emitted from %s to %s (same, better, or a first baseline)', (previous, current) => {
      expect(readinessDrop(previous, current === 'poor' ? poor : good, meta)).toBeNull();
    });

    it('is emitted for every downward step, down to at_risk', () => {
      const atRisk = assessReadiness(input({ factors: [totp()], backupCodesRemaining: 0 }));
      expect(readinessDrop('poor', atRisk, meta)?.data.level).toBe('at_risk');
      expect(readinessDrop('fair', poor, meta)?.data.previousLevel).toBe('fair');
    });
  });
});
