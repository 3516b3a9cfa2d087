import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type Clock, systemClock } from '@tessera/util';
import { AUDIT_SETTINGS, CLOCK } from '../audit.tokens';
import { AuditMetrics } from '../common/audit-metrics.service';
import { DataKeyStore } from '../data-keys/data-key.store';
import type { AuditSettings } from '../settings/audit-settings';
import { ChainAppender } from './chain-appender.service';
import { CheckpointSink } from './checkpoint-sink.service';

/** The chain itself: settings, data keys, appending, checkpoints and their sink; used by every feature. */
@Global()
@Module({})
export class ChainModule {
  static register(settings: AuditSettings, clock: Clock = systemClock): DynamicModule {
    return {
      module: ChainModule,
      providers: [{ provide: AUDIT_SETTINGS, useValue: settings }, { provide: CLOCK, useValue: clock }, AuditMetrics, DataKeyStore, ChainAppender, CheckpointSink],
      exports: [AUDIT_SETTINGS, CLOCK, AuditMetrics, DataKeyStore, ChainAppender, CheckpointSink],
    };
  }
}
