import { type DynamicModule, Module } from '@nestjs/common';
import { protoPath, TOPICS, tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition } from '@tessera/platform';
import { authServiceConfigSchema, type AuthServiceConfig } from './config/auth-config';
import { loadAuthKeys } from './config/auth-keys';
import { CredentialCatalogProjection } from './credentials/credential-catalog.projection';
import { CredentialsModule } from './credentials/credentials.module';
import { FactorsModule } from './factors/factors.module';
import { AuthGrpcModule } from './grpc/auth-grpc.module';
import { KeysModule } from './keys/keys.module';
import { AuthSchema1732760000000 } from './migrations/1732760000000-auth-schema.migration';
import { VerificationModule } from './verification/verification.module';

export { authServiceConfigSchema } from './config/auth-config';

@Module({})
export class AuthServiceModule {
  static register(resources: PlatformResources<AuthServiceConfig>): DynamicModule {
    // Key material is checked before Nest starts: a bad or missing key stops the service at once.
    const keys = loadAuthKeys(resources.config);
    return {
      module: AuthServiceModule,
      imports: [
        PlatformModule.register(resources),
        EventSourcingModule.forService({ topic: TOPICS.auth, registry: tesseraEventRegistry(), projections: [CredentialCatalogProjection] }),
        CredentialsModule.register(keys),
        VerificationModule,
        FactorsModule,
        KeysModule,
        AuthGrpcModule,
      ],
    };
  }
}

export const AuthServiceDefinition: ServiceDefinition<typeof authServiceConfigSchema> = {
  name: 'auth-service',
  description: 'Enrols and verifies second factors (TOTP, passkeys and security keys, backup codes, email/SMS codes) and issues step-up assertions.',
  version: '0.1.0',
  configSchema: authServiceConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS, AuthSchema1732760000000],
  grpc: { packages: ['tessera.auth.v1'], protoPaths: [protoPath('auth')] },
  rootModule: (resources) => AuthServiceModule.register(resources),
};
