import { Module } from '@nestjs/common';
import { RecordsModule } from '../records/records.module';
import { SecurityHistoryController } from './security-history.controller';
import { SecurityHistoryService } from './security-history.service';

@Module({ imports: [RecordsModule], controllers: [SecurityHistoryController], providers: [SecurityHistoryService], exports: [SecurityHistoryService] })
export class SecurityHistoryModule {}
