import { Module } from '@nestjs/common';
import { SecurityHistoryModule } from '../history/security-history.module';
import { RecordsModule } from '../records/records.module';
import { VerifyModule } from '../verify/verify.module';
import { AuditGrpcController } from './audit-grpc.controller';

@Module({ imports: [RecordsModule, SecurityHistoryModule, VerifyModule], controllers: [AuditGrpcController] })
export class AuditGrpcModule {}
