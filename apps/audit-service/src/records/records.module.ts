import { Module } from '@nestjs/common';
import { RecordReader } from './record.reader';
import { RecordsController } from './records.controller';
import { RecordsService } from './records.service';

@Module({ controllers: [RecordsController], providers: [RecordReader, RecordsService], exports: [RecordReader, RecordsService] })
export class RecordsModule {}
