import type { Type } from '@nestjs/common';
import { BackupCodeVerifier } from './backup-codes/backup-codes.verifier';
import type { MethodVerifier } from './method-verifier';
import { EmailOtpVerifier, SmsOtpVerifier } from './out-of-band/out-of-band.verifier';
import { TotpVerifier } from './totp/totp.verifier';
import { WebAuthnVerifier } from './webauthn/webauthn.verifier';

/** THE list of methods the service verifies, one folder each (STYLE.md principle 6). */
export const METHOD_VERIFIERS: readonly Type<MethodVerifier>[] = [TotpVerifier, WebAuthnVerifier, BackupCodeVerifier, EmailOtpVerifier, SmsOtpVerifier];

export const METHOD_VERIFIER_LIST = Symbol('auth.methodVerifiers');
