import { Module } from '@nestjs/common';
import { ChainVerificationService } from './chain-verification.service';
import { VerifyController } from './verify.controller';

@Module({ controllers: [VerifyController], providers: [ChainVerificationService], exports: [ChainVerificationService] })
export class VerifyModule {}
