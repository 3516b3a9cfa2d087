import { type DynamicModule, Module } from '@nestjs/common';
import { protoPath, tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition } from '@tessera/platform';
import { type DeviceRegistryConfig, deviceRegistryConfigSchema } from './config';
import { DevicesModule } from './devices/devices.module';
import { AuthEventsConsumer } from './factors/auth-events.consumer';
import { FactorsModule } from './factors/factors.module';
import { DeviceRegistrySchema1733000000000 } from './migrations/1733000000000-device-registry-schema';
import { ReadinessModule } from './readiness/readiness.module';
import { DeviceViewsProjection } from './registry/device-views.projection';
import { RegistryModule } from './registry/registry.module';
import { RevocationModule } from './revocation/revocation.module';
import { VaultModule } from './vault/vault.module';

export { deviceRegistryConfigSchema } from './config';

@Module({})
export class DeviceRegistryModule {
  static register(resources: PlatformResources<DeviceRegistryConfig>): DynamicModule {
    const config = resources.config;
    return {
      module: DeviceRegistryModule,
      imports: [
        PlatformModule.register(resources),
        EventSourcingModule.forService({
          topic: config.DEVICE_EVENTS_TOPIC,
          registry: tesseraEventRegistry(),
          projections: [DeviceViewsProjection],
          consumers: [{ name: config.AUTH_EVENTS_CONSUMER, topics: [config.AUTH_EVENTS_TOPIC], handler: AuthEventsConsumer }],
        }),
        RegistryModule.register(config),
        RevocationModule.register(config),
        DevicesModule,
        ReadinessModule,
        VaultModule,
        FactorsModule,
      ],
    };
  }
}

export const DeviceRegistryDefinition: ServiceDefinition<typeof deviceRegistryConfigSchema> = {
  name: 'device-registry',
  description:
    'Keeps the devices of each user (registered as factors are bound, renamed, reported lost, revoked), their recovery readiness, ' +
    'and the zero-knowledge authenticator backup vault.',
  version: '0.1.0',
  configSchema: deviceRegistryConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS, DeviceRegistrySchema1733000000000],
  grpc: { packages: ['tessera.devices.v1'], protoPaths: [protoPath('devices')] },
  rootModule: (resources) => DeviceRegistryModule.register(resources),
};
