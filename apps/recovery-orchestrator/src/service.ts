import { type DynamicModule, Module } from '@nestjs/common';
import { TOPICS, tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition, baseConfigSchema } from '@tessera/platform';
import { RECOVERY_TASK_QUEUE } from '@tessera/recovery-workflows';
import { z } from 'zod';
import { TemporalWorkerService } from './temporal/temporal-worker.service';

export const recoveryOrchestratorConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3103),
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('tessera'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(RECOVERY_TASK_QUEUE),
});
export type RecoveryOrchestratorConfig = z.infer<typeof recoveryOrchestratorConfigSchema>;

@Module({})
export class RecoveryOrchestratorModule {
  static register(resources: PlatformResources): DynamicModule {
    return {
      module: RecoveryOrchestratorModule,
      imports: [PlatformModule.register(resources), EventSourcingModule.forService({ topic: TOPICS.recovery, registry: tesseraEventRegistry() })],
      providers: [TemporalWorkerService],
    };
  }
}

export const RecoveryOrchestratorDefinition: ServiceDefinition<typeof recoveryOrchestratorConfigSchema> = {
  name: 'recovery-orchestrator',
  description: 'Runs account recovery and incident response as durable Temporal workflows: approvals, cooling-off, temporary access passes, notifications and drills.',
  version: '0.1.0',
  configSchema: recoveryOrchestratorConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS],
  rootModule: (resources) => RecoveryOrchestratorModule.register(resources),
};
