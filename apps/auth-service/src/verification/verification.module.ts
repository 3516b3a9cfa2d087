import { Module } from '@nestjs/common';
import { MethodsModule } from '../methods/methods.module';
import { VerificationController } from './verification.controller';
import { VerificationService } from './verification.service';

@Module({ imports: [MethodsModule], controllers: [VerificationController], providers: [VerificationService], exports: [VerificationService] })
export class VerificationModule {}
