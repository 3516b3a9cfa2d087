import { type AuthFactorKind, type DeviceFactorKind, type DeviceKind } from '@tessera/contracts';
import { assertNever } from '@tessera/event-sourcing';
import { type AaguidCatalog } from '../aaguid/aaguid-catalog';
import { deviceHoldingCredential, type UserDevices } from '../devices/devices.state';
import { type ReadinessFactor } from '../readiness/readiness';

/**
 * What device-registry knows about one of the user's auth-service credentials, learnt from
 * auth-service's events (never its secrets: the events carry none, S29). auth-service is the authority;
 * these facts are a read model that may lag it by the consumer's delay.
 */
export interface CredentialFact {
  readonly credentialId: string;
  readonly kind: AuthFactorKind;
  readonly status: 'pending' | 'active' | 'revoked';
  /** The display name the user gave it (or the masked address of an email/SMS channel). */
  readonly name: string | null;
  /** WebAuthn only. */
  readonly aaguid: string | null;
  /** WebAuthn only: the key cannot leave the authenticator (BE flag clear). */
  readonly deviceBound: boolean | null;
  /** Backup codes only. */
  readonly remainingCodes: number | null;
  readonly createdAt: string;
}

export interface DeviceForCredential {
  readonly kind: DeviceKind;
  readonly name: string;
  readonly aaguid: string | null;
  readonly factor: DeviceFactorKind;
}

/** Default names, for a credential whose own name cannot be shown (see `displayName`). */
const DEFAULT_NAMES: Readonly<Record<DeviceKind, string>> = {
  phone: 'Authenticator app',
  tablet: 'Tablet',
  desktop: 'Computer',
  'security-key': 'Security key',
  'platform-passkey': 'Passkey',
};

/**
 * The device a newly bound factor lives on ("registered when a factor is bound", DESIGN.md
 * device-registry), or null for factors that are not devices:
 *
 * - a TOTP secret lives in an authenticator app, almost always on a phone;
 * - a WebAuthn credential's kind follows its model when the AAGUID is known (S20: display only);
 *   otherwise a device-bound key (backup-eligible flag clear, W3C WebAuthn §6.1.3) is most likely a
 *   roaming security key and a synced one a platform passkey;
 * - backup codes are paper, and email/SMS channels are addresses that outlive any one device, so
 *   they are counted as factors outside devices instead.
 */
export function deviceForCredential(fact: CredentialFact, catalog: AaguidCatalog): DeviceForCredential | null {
  switch (fact.kind) {
    case 'totp':
      return { kind: 'phone', name: displayName(fact.name, 'phone'), aaguid: null, factor: 'totp' };
    case 'webauthn': {
      const kind = catalog.suggestKind(fact.aaguid) ?? (fact.deviceBound ? 'security-key' : 'platform-passkey');
      const fallback = catalog.lookup(fact.aaguid)?.name ?? DEFAULT_NAMES[kind];
      return { kind, name: displayName(fact.name, kind, fallback), aaguid: fact.aaguid, factor: 'webauthn' };
    }
    case 'backup_codes':
    case 'email_otp':
    case 'sms_otp':
      return null;
    default:
      return assertNever(fact.kind);
  }
}

/**
 * auth-service bounds names to 64 characters but does not forbid control or bidirectional-override
 * characters, which device names must not carry (they are shown in notifications, see the decider's
 * `deviceName`; Unicode TR #36 §2.1). Such a name is replaced rather than refused: the factor is
 * bound already, and the user can rename the device.
 */
function displayName(name: string | null, kind: DeviceKind, fallback = DEFAULT_NAMES[kind]): string {
  const trimmed = name?.trim() ?? '';
  if (trimmed.length === 0 || trimmed.length > 64 || /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(trimmed)) return fallback;
  return trimmed;
}

/** True when the user can sign in with it now: confirmed, not revoked, and (for codes) some left. */
export function isUsableFact(fact: CredentialFact): boolean {
  if (fact.status !== 'active') return false;
  return fact.kind !== 'backup_codes' || (fact.remainingCodes ?? 0) > 0;
}

/**
 * Usable factors the user holds outside registered devices (the decider's `usableFactorsOutsideDevices`
 * for S24): one for a backup-code set with codes left, plus every usable credential no device holds
 * (an email or SMS channel, or a factor whose device is not registered yet). A credential on a lost or
 * revoked device is not counted: the user does not have it.
 */
export function usableFactorsOutsideDevices(state: UserDevices, facts: readonly CredentialFact[]): number {
  return facts.filter((fact) => isUsableFact(fact) && (fact.kind === 'backup_codes' || !deviceHoldingCredential(state, fact.credentialId))).length;
}

/** Readiness factors outside devices (backup codes are counted by the readiness input separately). */
export function readinessFactorsOutsideDevices(state: UserDevices, facts: readonly CredentialFact[]): ReadinessFactor[] {
  return facts
    .filter((fact) => fact.kind !== 'backup_codes' && isUsableFact(fact) && !deviceHoldingCredential(state, fact.credentialId))
    .map((fact) => ({
      credentialId: fact.credentialId,
      factor: fact.kind as DeviceFactorKind,
      hardware: false,
      boundAt: fact.createdAt,
    }));
}

/** Codes left in the user's current backup-code set (0 when none was ever generated). */
export function backupCodesRemaining(facts: readonly CredentialFact[]): number {
  return facts
    .filter((fact) => fact.kind === 'backup_codes' && fact.status === 'active')
    .reduce((sum, fact) => sum + (fact.remainingCodes ?? 0), 0);
}

