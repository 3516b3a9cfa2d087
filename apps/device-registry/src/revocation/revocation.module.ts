import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import { CREDENTIAL_REVOKER } from '../common/tokens';
import { type DeviceRegistryConfig } from '../config';
import { AuthServiceCredentialRevoker } from './auth-service-credential-revoker';

/** How long one call to auth-service may take before the revocation is reported as not confirmed. */
const AUTH_CALL_DEADLINE_MS = 5_000;

@Injectable()
class RevokerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CREDENTIAL_REVOKER) private readonly revoker: AuthServiceCredentialRevoker,
    @Inject(CONFIG) private readonly config: DeviceRegistryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.AUTH_SERVICE_TOKEN && !this.config.AUTH_SERVICE_TOKEN_FILE) {
      // Not fatal: listing, reporting lost, the vault and the user's own revocations work without it.
      this.logger.warn('no AUTH_SERVICE_TOKEN(_FILE): revocations inside a recovery or an incident will answer 503 until one is set');
    }
  }

  onApplicationShutdown(): void {
    this.revoker.close();
  }
}

/** The CredentialRevoker port, bound to auth-service (S23). */
@Module({})
export class RevocationModule {
  static register(config: DeviceRegistryConfig): DynamicModule {
    const serviceToken = config.AUTH_SERVICE_TOKEN_FILE
      ? { file: config.AUTH_SERVICE_TOKEN_FILE }
      : config.AUTH_SERVICE_TOKEN
        ? { value: config.AUTH_SERVICE_TOKEN }
        : null;
    const revoker = new AuthServiceCredentialRevoker({
      grpcUrl: config.AUTH_GRPC_URL,
      httpUrl: config.AUTH_HTTP_URL,
      deadlineMs: AUTH_CALL_DEADLINE_MS,
      serviceToken,
    });
    return {
      module: RevocationModule,
      global: true,
      providers: [{ provide: CREDENTIAL_REVOKER, useValue: revoker }, RevokerLifecycle],
      exports: [CREDENTIAL_REVOKER],
    };
  }
}
