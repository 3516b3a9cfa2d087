import { Module } from '@nestjs/common';
import { RecordsModule } from '../records/records.module';
import { ExportService } from './export.service';
import { ExportsController } from './exports.controller';
import { ReportService } from './report.service';

@Module({ imports: [RecordsModule], controllers: [ExportsController], providers: [ExportService, ReportService] })
export class ExportsModule {}
