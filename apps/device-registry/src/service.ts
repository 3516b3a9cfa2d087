import { type DynamicModule, Module } from '@nestjs/common';
import { TOPICS, tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition, baseConfigSchema } from '@tessera/platform';

export const deviceRegistryConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3102),
});

@Module({})
export class DeviceRegistryModule {
  static register(resources: PlatformResources): DynamicModule {
    return { module: DeviceRegistryModule, imports: [PlatformModule.register(resources), EventSourcingModule.forService({ topic: TOPICS.devices, registry: tesseraEventRegistry() })] };
  }
}

export const DeviceRegistryDefinition: ServiceDefinition<typeof deviceRegistryConfigSchema> = {
  name: 'device-registry',
  description: 'Keeps the devices of each user, their recovery readiness and the zero-knowledge authenticator backup vault.',
  version: '0.1.0',
  configSchema: deviceRegistryConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS],
  rootModule: (resources) => DeviceRegistryModule.register(resources),
};
