import { AUTH_FACTOR_KINDS, type AuthFactorKind } from '@tessera/contracts';
import { BACKUP_CODES_DESCRIPTOR, createBackupCodesMethod, type BackupCodeKdf } from './backup-codes/backup-codes';
import { createEmailOtpMethod, createSmsOtpMethod, EMAIL_OTP_DESCRIPTOR, SMS_OTP_DESCRIPTOR } from './email-sms/out-of-band-code';
import { type MethodDescriptor } from './method';
import { createTotpMethod, TOTP_DESCRIPTOR } from './totp/totp';
import { createWebAuthnMethod, WEBAUTHN_DESCRIPTOR } from './webauthn/webauthn';

/** The narrow dependencies the methods need, and nothing else (after Kratos's strategy registry). */
export interface MethodDependencies {
  /** Keys the MAC of email/SMS codes; held outside the database. */
  readonly outOfBandPepper: Uint8Array;
  readonly backupCodeKdf?: BackupCodeKdf;
}

/**
 * THE list of authentication methods. Keyed by factor kind, so the compiler refuses a kind from the
 * contracts that has no method here, and each entry pairs the method's metadata with its factory.
 *
 * | id           | AAL | amr (RFC 8176)              | guessable | restricted | phishing-resistant |
 * |--------------|-----|-----------------------------|-----------|------------|--------------------|
 * | totp         | 2   | otp                         | yes       | no         | no                 |
 * | webauthn     | 3*  | pop, user, mfa (+ hwk/swk)  | no        | no         | yes                |
 * | backup_codes | 2   | otp                         | yes       | no         | no                 |
 * | email_otp    | 1   | otp                         | yes       | yes        | no                 |
 * | sms_otp      | 2   | sms, otp                    | yes       | yes        | no                 |
 *
 * (* AAL2 for a synced passkey.)
 */
const REGISTRY = {
  totp: { descriptor: TOTP_DESCRIPTOR, create: (_deps: MethodDependencies) => createTotpMethod() },
  webauthn: { descriptor: WEBAUTHN_DESCRIPTOR, create: (_deps: MethodDependencies) => createWebAuthnMethod() },
  backup_codes: { descriptor: BACKUP_CODES_DESCRIPTOR, create: (deps: MethodDependencies) => createBackupCodesMethod({ kdf: deps.backupCodeKdf }) },
  email_otp: { descriptor: EMAIL_OTP_DESCRIPTOR, create: (deps: MethodDependencies) => createEmailOtpMethod({ pepper: deps.outOfBandPepper }) },
  sms_otp: { descriptor: SMS_OTP_DESCRIPTOR, create: (deps: MethodDependencies) => createSmsOtpMethod({ pepper: deps.outOfBandPepper }) },
} as const satisfies { readonly [K in AuthFactorKind]: { readonly descriptor: MethodDescriptor<K>; readonly create: (deps: MethodDependencies) => unknown } };

export type AuthMethods = { readonly [K in AuthFactorKind]: ReturnType<(typeof REGISTRY)[K]['create']> };

export const METHOD_DESCRIPTORS: readonly MethodDescriptor[] = AUTH_FACTOR_KINDS.map((kind) => REGISTRY[kind].descriptor);

export function methodDescriptor<K extends AuthFactorKind>(kind: K): MethodDescriptor<K> {
  return REGISTRY[kind].descriptor as MethodDescriptor<K>;
}

export function createAuthMethods(deps: MethodDependencies): AuthMethods {
  return Object.fromEntries(AUTH_FACTOR_KINDS.map((kind) => [kind, REGISTRY[kind].create(deps)])) as unknown as AuthMethods;
}
