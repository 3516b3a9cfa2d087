import { type DynamicModule, Module } from '@nestjs/common';
import { TOPICS, tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition, baseConfigSchema } from '@tessera/platform';

export const authServiceConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3101),
});

@Module({})
export class AuthServiceModule {
  static register(resources: PlatformResources): DynamicModule {
    return { module: AuthServiceModule, imports: [PlatformModule.register(resources), EventSourcingModule.forService({ topic: TOPICS.auth, registry: tesseraEventRegistry() })] };
  }
}

export const AuthServiceDefinition: ServiceDefinition<typeof authServiceConfigSchema> = {
  name: 'auth-service',
  description: 'Enrols and verifies second factors (TOTP, passkeys and security keys, backup codes, email/SMS codes) and issues step-up assertions.',
  version: '0.1.0',
  configSchema: authServiceConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS],
  rootModule: (resources) => AuthServiceModule.register(resources),
};
