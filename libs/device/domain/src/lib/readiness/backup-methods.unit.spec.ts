import { backupMethods } from './backup-methods';
import { assessReadiness, type ReadinessFactor, type ReadinessInput } from './readiness';

const now = new Date('2026-06-01T00:00:00.000Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * 60 * 60 * 1000).toISOString();
const factor = (kind: ReadinessFactor['factor'], hardware = false): ReadinessFactor => ({
  credentialId: `${kind}-${hardware}`,
  factor: kind,
  hardware,
  boundAt: daysAgo(200),
});

function report(overrides: Partial<ReadinessInput>) {
  const input: ReadinessInput = { factors: [], backupCodesRemaining: 10, vaultBackup: null, now, ...overrides };
  return backupMethods(input, assessReadiness(input));
}

describe('backup methods: what exists and what is missing', () => {
  it('one TOTP app and nothing else: every rung is missing', () => {
    const result = report({ factors: [factor('totp')], backupCodesRemaining: 0 });
    expect(result.methods).toEqual([
      { method: 'another_factor', status: 'missing' },
      { method: 'backup_codes', status: 'missing', remaining: 0 },
      { method: 'vault_backup', status: 'missing' },
      { method: 'hardware_key', status: 'missing' },
    ]);
    expect(result.toFix).toEqual(['another_factor', 'backup_codes', 'vault_backup', 'hardware_key']);
  });

  it('a full ladder: nothing to fix', () => {
    const result = report({ factors: [factor('totp'), factor('webauthn', true)], vaultBackup: { storedAt: daysAgo(1) } });
    expect(result.toFix).toEqual([]);
    expect(result.methods.find((entry) => entry.method === 'vault_backup')).toEqual({ method: 'vault_backup', status: 'present', storedAt: daysAgo(1) });
  });

  it('few codes left are low; an old vault backup is stale', () => {
    const result = report({ factors: [factor('totp'), factor('webauthn')], backupCodesRemaining: 2, vaultBackup: { storedAt: daysAgo(120) } });
    expect(result.methods.find((entry) => entry.method === 'backup_codes')?.status).toBe('low');
    expect(result.methods.find((entry) => entry.method === 'vault_backup')?.status).toBe('stale');
    expect(result.toFix).toEqual(['backup_codes', 'vault_backup', 'hardware_key']);
  });

  it('without a TOTP factor a vault backup is not needed', () => {
    const result = report({ factors: [factor('webauthn', true), factor('webauthn')] });
    expect(result.methods.find((entry) => entry.method === 'vault_backup')?.status).toBe('not_needed');
    expect(result.toFix).toEqual([]);
  });
});
