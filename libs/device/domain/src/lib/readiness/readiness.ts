import {
  DEVICE_EVENT_SCHEMAS,
  READINESS_FINDINGS,
  READINESS_LEVELS,
  type DeviceEvent,
  type DeviceFactorKind,
  type ReadinessFinding,
  type ReadinessLevel,
} from '@tessera/contracts';
import { activeDevices, type UserDevices } from '../devices/devices.state';

/**
 * Recovery readiness: how far up the recovery ladder (DESIGN.md) a user would have to climb if they
 * lost their phone today, as findings the UI can act on and one summary level. Pure: facts in,
 * assessment out; time arrives in the input.
 */

/** One factor the user can use now (a credential on an active device, or an unbound channel). */
export interface ReadinessFactor {
  readonly credentialId: string;
  readonly factor: DeviceFactorKind;
  /** A WebAuthn credential on a roaming security key: survives the loss of any phone or laptop. */
  readonly hardware: boolean;
  readonly boundAt: string;
}

export interface ReadinessInput {
  readonly factors: readonly ReadinessFactor[];
  /** Unused backup codes (0 when none were ever generated). */
  readonly backupCodesRemaining: number;
  readonly vaultBackup: { readonly storedAt: string } | null;
  readonly now: Date;
}

export interface ReadinessPolicy {
  /** 1..this many codes left is "few" (auth-service's BackupCodesLow uses the same idea). */
  readonly fewBackupCodesAtMost: number;
  /** A vault backup older than this is stale. */
  readonly vaultStaleAfterDays: number;
}

/**
 * Three codes is the last point at which a user can still lose a device or two and sign in while
 * they generate a new set. Ninety days: authenticator apps gain accounts over time and a backup only
 * restores what it held, so a quarterly nudge keeps the gap small without nagging.
 */
export const DEFAULT_READINESS_POLICY: ReadinessPolicy = { fewBackupCodesAtMost: 3, vaultStaleAfterDays: 90 };

/**
 * Scoring rule: start at 100 and subtract the weight of each finding; the level is the band the score
 * falls in. A user with no usable factor at all scores 0 (only assisted recovery is left).
 *
 * | finding                 | weight | why                                                            |
 * |-------------------------|-------:|----------------------------------------------------------------|
 * | only_one_factor         |     40 | one lost device and the user is off rung 1 of the ladder       |
 * | no_backup_codes_left    |     25 | rung 2 is gone                                                 |
 * | only_restricted_factors |     20 | SMS/email are restricted authenticators (63B; S7)              |
 * | few_backup_codes_left   |     10 | rung 2 is running out                                          |
 * | no_vault_backup         |     10 | rung 3 is missing for the user's TOTP secrets                  |
 * | no_hardware_key         |      5 | nothing survives losing every phone and laptop at once         |
 * | vault_backup_stale      |      5 | rung 3 exists but may miss newer accounts                      |
 *
 * | level   | score   |
 * |---------|---------|
 * | good    | ≥ 85    |
 * | fair    | 60 – 84 |
 * | poor    | 35 – 59 |
 * | at_risk | < 35    |
 *
 * So: one TOTP app, codes and a vault → 55, poor; one TOTP app and nothing else → 20, at_risk; two
 * factors with codes but no security key or vault → 85, good.
 */
export const READINESS_WEIGHTS: Readonly<Record<ReadinessFinding, number>> = {
  only_one_factor: 40,
  no_backup_codes_left: 25,
  only_restricted_factors: 20,
  few_backup_codes_left: 10,
  no_vault_backup: 10,
  no_hardware_key: 5,
  vault_backup_stale: 5,
};
export const READINESS_BANDS: Readonly<Record<Exclude<ReadinessLevel, 'at_risk'>, number>> = { good: 85, fair: 60, poor: 35 };

export interface ReadinessAssessment {
  readonly level: ReadinessLevel;
  readonly score: number;
  /** In the order of `READINESS_FINDINGS`. */
  readonly findings: readonly ReadinessFinding[];
}

const RESTRICTED: ReadonlySet<DeviceFactorKind> = new Set(['sms_otp', 'email_otp']);
const DAY_MS = 24 * 60 * 60 * 1000;

export function assessReadiness(input: ReadinessInput, policy: ReadinessPolicy = DEFAULT_READINESS_POLICY): ReadinessAssessment {
  const { factors, backupCodesRemaining, vaultBackup, now } = input;
  const totp = factors.filter((factor) => factor.factor === 'totp');
  const found = new Set<ReadinessFinding>();

  if (factors.length <= 1) found.add('only_one_factor');
  if (factors.length > 0 && factors.every((factor) => RESTRICTED.has(factor.factor))) found.add('only_restricted_factors');
  if (backupCodesRemaining <= 0) found.add('no_backup_codes_left');
  else if (backupCodesRemaining <= policy.fewBackupCodesAtMost) found.add('few_backup_codes_left');
  if (!factors.some((factor) => factor.hardware)) found.add('no_hardware_key');
  // The vault holds TOTP secrets; a user without a TOTP factor has nothing for it to restore.
  if (totp.length > 0 && vaultBackup === null) found.add('no_vault_backup');
  if (totp.length > 0 && vaultBackup !== null) {
    const storedAt = Date.parse(vaultBackup.storedAt);
    const old = now.getTime() - storedAt > policy.vaultStaleAfterDays * DAY_MS;
    const missesNewerTotp = totp.some((factor) => Date.parse(factor.boundAt) > storedAt);
    if (old || missesNewerTotp) found.add('vault_backup_stale');
  }

  const findings = READINESS_FINDINGS.filter((finding) => found.has(finding));
  const score = factors.length === 0 ? 0 : Math.max(0, 100 - findings.reduce((sum, finding) => sum + READINESS_WEIGHTS[finding], 0));
  return { level: levelFor(score), score, findings };
}

export function levelFor(score: number): ReadinessLevel {
  if (score >= READINESS_BANDS.good) return 'good';
  if (score >= READINESS_BANDS.fair) return 'fair';
  if (score >= READINESS_BANDS.poor) return 'poor';
  return 'at_risk';
}

/**
 * The readiness input from the device stream plus what auth-service knows: credentials on active
 * devices are usable; lost and revoked devices' are not. Factors outside any device (an email channel,
 * say) come from auth-service's read model.
 */
export function readinessInputFromDevices(
  state: UserDevices,
  facts: { readonly backupCodesRemaining: number; readonly otherFactors?: readonly ReadinessFactor[]; readonly now: Date },
): ReadinessInput {
  const onDevices = activeDevices(state).flatMap((device) =>
    device.credentials.map((credential) => ({
      credentialId: credential.credentialId,
      factor: credential.factor,
      hardware: device.kind === 'security-key' && credential.factor === 'webauthn',
      boundAt: credential.boundAt,
    })),
  );
  return {
    factors: [...onDevices, ...(facts.otherFactors ?? [])],
    backupCodesRemaining: facts.backupCodesRemaining,
    vaultBackup: state.status === 'tracked' && state.vaultBackup ? { storedAt: state.vaultBackup.storedAt } : null,
    now: facts.now,
  };
}

/**
 * The rule behind `RecoveryReadinessDropped`: an event when the level is worse than the last one
 * recorded for the user, nothing when it stayed or rose. A first assessment (no previous level) is a
 * baseline, not a drop. The caller keeps the last level in its readiness read model.
 */
export function readinessDrop(
  previous: ReadinessLevel | null,
  current: ReadinessAssessment,
  meta: { readonly userId: string; readonly now: Date },
): Extract<DeviceEvent, { type: 'RecoveryReadinessDropped' }> | null {
  if (previous === null || READINESS_LEVELS.indexOf(current.level) >= READINESS_LEVELS.indexOf(previous)) return null;
  const data = DEVICE_EVENT_SCHEMAS.RecoveryReadinessDropped.parse({
    userId: meta.userId,
    previousLevel: previous,
    level: current.level,
    score: current.score,
    findings: [...current.findings],
    assessedAt: meta.now.toISOString(),
  });
  return { type: 'RecoveryReadinessDropped', data };
}
