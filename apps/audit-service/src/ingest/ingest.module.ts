import { Module } from '@nestjs/common';
import { IngestConsumer } from './ingest.consumer';

/** Consumes every tessera.* topic into the chain (wired as the `ingest` consumer in service.ts). */
@Module({ providers: [IngestConsumer], exports: [IngestConsumer] })
export class IngestModule {}
