import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { CONFIG, LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import type { RecoveryOrchestratorConfig } from '../service';
import { temporalDataConverter } from './payload-codec';
import { TEMPORAL_CLIENT, TEMPORAL_DATA_CONVERTER } from './temporal.tokens';

/** The Temporal client of the service (start, update, query, schedules), sealing every payload (S32). */
@Global()
@Module({})
export class TemporalModule {
  static register(): DynamicModule {
    return {
      module: TemporalModule,
      providers: [
        { provide: TEMPORAL_DATA_CONVERTER, inject: [CONFIG], useFactory: (config: RecoveryOrchestratorConfig) => temporalDataConverter(config) },
        {
          provide: TEMPORAL_CLIENT,
          inject: [CONFIG, LOGGER, TEMPORAL_DATA_CONVERTER],
          useFactory: async (config: RecoveryOrchestratorConfig, _logger: Logger, dataConverter: DataConverter) =>
            new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }), namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
        },
      ],
      exports: [TEMPORAL_CLIENT, TEMPORAL_DATA_CONVERTER],
    };
  }
}
