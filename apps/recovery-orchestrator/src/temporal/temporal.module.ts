import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { CONFIG, LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import type { RecoveryOrchestratorConfig } from '../service';
import { TEMPORAL_CLIENT } from './temporal.tokens';

/** The Temporal client of the service (start, update, query, schedules). */
@Global()
@Module({})
export class TemporalModule {
  static register(): DynamicModule {
    return {
      module: TemporalModule,
      providers: [
        {
          provide: TEMPORAL_CLIENT,
          inject: [CONFIG, LOGGER],
          useFactory: async (config: RecoveryOrchestratorConfig, _logger: Logger) =>
            new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }), namespace: config.TEMPORAL_NAMESPACE }),
        },
      ],
      exports: [TEMPORAL_CLIENT],
    };
  }
}
