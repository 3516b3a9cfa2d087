import { type DynamicModule, Module } from '@nestjs/common';
import { tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition, baseConfigSchema } from '@tessera/platform';

export const auditServiceConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3104),
});

@Module({})
export class AuditServiceModule {
  static register(resources: PlatformResources): DynamicModule {
    return { module: AuditServiceModule, imports: [PlatformModule.register(resources), EventSourcingModule.forService({ registry: tesseraEventRegistry() })] };
  }
}

export const AuditServiceDefinition: ServiceDefinition<typeof auditServiceConfigSchema> = {
  name: 'audit-service',
  description: 'Keeps the tamper-evident audit log of every Tessera event, the security history users see and compliance exports.',
  version: '0.1.0',
  configSchema: auditServiceConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS],
  rootModule: (resources) => AuditServiceModule.register(resources),
};
