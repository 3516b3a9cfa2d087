import { Module } from '@nestjs/common';
import { FactorsModule } from '../factors/factors.module';
import { MethodsModule } from '../methods/methods.module';
import { VerificationModule } from '../verification/verification.module';
import { AuthGrpcController } from './auth-grpc.controller';
import { ContactChannelsReader } from './contact-channels.reader';

@Module({ imports: [VerificationModule, FactorsModule, MethodsModule], controllers: [AuthGrpcController], providers: [ContactChannelsReader] })
export class AuthGrpcModule {}
