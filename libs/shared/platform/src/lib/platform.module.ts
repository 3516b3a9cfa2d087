import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { BaseConfig } from './config';
import { HealthController, Readiness } from './health/readiness';
import { Metrics, MetricsController } from './observability/metrics';
import { CONFIG, DATA_SOURCE, KAFKA, LOGGER, SERVICE_NAME } from './tokens';

/** What the platform opens before Nest starts, handed to every module through DI. */
export interface PlatformResources<C extends BaseConfig = BaseConfig> {
  readonly serviceName: string;
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly dataSource: DataSource;
  readonly kafka: Kafka;
}

@Global()
@Module({})
export class PlatformModule {
  static register(resources: PlatformResources): DynamicModule {
    return {
      module: PlatformModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_NAME, useValue: resources.serviceName },
        { provide: CONFIG, useValue: resources.config },
        { provide: LOGGER, useValue: resources.logger },
        { provide: DATA_SOURCE, useValue: resources.dataSource },
        { provide: KAFKA, useValue: resources.kafka },
        { provide: Metrics, useValue: resources.metrics },
        { provide: Readiness, useValue: resources.readiness },
      ],
      exports: [SERVICE_NAME, CONFIG, LOGGER, DATA_SOURCE, KAFKA, Metrics, Readiness],
    };
  }
}
