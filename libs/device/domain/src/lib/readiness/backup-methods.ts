import { DEFAULT_READINESS_POLICY, type ReadinessAssessment, type ReadinessInput, type ReadinessPolicy } from './readiness';

/**
 * The rungs of the recovery ladder (DESIGN.md) a user holds themselves, and which are missing: what
 * the device-management API shows beside the devices so the user can fill the gaps. Assisted recovery
 * (rung 4) is always available and is not listed: it needs nothing from the user in advance.
 */
export const BACKUP_METHODS = ['another_factor', 'backup_codes', 'vault_backup', 'hardware_key'] as const;
export type BackupMethod = (typeof BACKUP_METHODS)[number];

/**
 * - `present`: the rung is there.
 * - `low`: backup codes are running out (policy `fewBackupCodesAtMost`).
 * - `stale`: the vault backup is older than the policy allows or misses a newer TOTP credential.
 * - `missing`: the rung is not there.
 * - `not_needed`: a vault backup restores TOTP secrets; without a TOTP factor there is nothing to back up.
 */
export type BackupMethodStatus = 'present' | 'low' | 'stale' | 'missing' | 'not_needed';

export interface BackupMethodReport {
  readonly method: BackupMethod;
  readonly status: BackupMethodStatus;
  /** Backup codes: how many are left. */
  readonly remaining?: number;
  /** Vault backup: when the latest was stored. */
  readonly storedAt?: string;
}

export interface BackupMethods {
  readonly methods: readonly BackupMethodReport[];
  /** Methods whose status is `missing`, `low` or `stale`: what the user should act on. */
  readonly toFix: readonly BackupMethod[];
}

export function backupMethods(
  input: ReadinessInput,
  assessment: ReadinessAssessment,
  policy: ReadinessPolicy = DEFAULT_READINESS_POLICY,
): BackupMethods {
  const { factors, backupCodesRemaining, vaultBackup } = input;
  const hasTotp = factors.some((factor) => factor.factor === 'totp');
  const codes: BackupMethodStatus =
    backupCodesRemaining <= 0 ? 'missing' : backupCodesRemaining <= policy.fewBackupCodesAtMost ? 'low' : 'present';
  const vault: BackupMethodStatus = !hasTotp
    ? 'not_needed'
    : vaultBackup === null
      ? 'missing'
      : assessment.findings.includes('vault_backup_stale')
        ? 'stale'
        : 'present';
  const methods: BackupMethodReport[] = [
    { method: 'another_factor', status: factors.length >= 2 ? 'present' : 'missing' },
    { method: 'backup_codes', status: codes, remaining: Math.max(0, backupCodesRemaining) },
    { method: 'vault_backup', status: vault, ...(vaultBackup ? { storedAt: vaultBackup.storedAt } : {}) },
    { method: 'hardware_key', status: factors.some((factor) => factor.hardware) ? 'present' : 'missing' },
  ];
  return {
    methods,
    toFix: methods.filter((entry) => entry.status === 'missing' || entry.status === 'low' || entry.status === 'stale').map((entry) => entry.method),
  };
}
