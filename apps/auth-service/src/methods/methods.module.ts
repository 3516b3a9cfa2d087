import { Module } from '@nestjs/common';
import { BackupCodesController } from './backup-codes/backup-codes.controller';
import { BackupCodesService } from './backup-codes/backup-codes.service';
import { BackupCodeVerifier } from './backup-codes/backup-codes.verifier';
import { METHOD_VERIFIER_LIST, METHOD_VERIFIERS } from './method-registry';
import type { MethodVerifier } from './method-verifier';
import { OutOfBandController } from './out-of-band/out-of-band.controller';
import { OutOfBandService } from './out-of-band/out-of-band.service';
import { EmailOtpVerifier, SmsOtpVerifier } from './out-of-band/out-of-band.verifier';
import { TemporaryAccessPassService } from './temporary-access-pass/temporary-access-pass.service';
import { TotpController } from './totp/totp.controller';
import { TotpService } from './totp/totp.service';
import { TotpVerifier } from './totp/totp.verifier';
import { ChallengeStore } from './webauthn/challenge.store';
import { WebAuthnController } from './webauthn/webauthn.controller';
import { WebAuthnService } from './webauthn/webauthn.service';
import { WebAuthnVerifier } from './webauthn/webauthn.verifier';

/**
 * The authentication methods: enrolment endpoints and verifiers, one folder each, the verifiers
 * gathered from the one list in `method-registry.ts`.
 */
@Module({
  controllers: [TotpController, WebAuthnController, BackupCodesController, OutOfBandController],
  providers: [
    TotpService,
    TotpVerifier,
    WebAuthnService,
    WebAuthnVerifier,
    ChallengeStore,
    BackupCodesService,
    BackupCodeVerifier,
    OutOfBandService,
    EmailOtpVerifier,
    SmsOtpVerifier,
    TemporaryAccessPassService,
    {
      provide: METHOD_VERIFIER_LIST,
      inject: [...METHOD_VERIFIERS],
      useFactory: (...verifiers: MethodVerifier[]) => verifiers,
    },
  ],
  exports: [METHOD_VERIFIER_LIST, WebAuthnService, OutOfBandService, TemporaryAccessPassService],
})
export class MethodsModule {}
