import { type DynamicModule, Global, Module } from '@nestjs/common';
import { createAuthMethods } from '@tessera/auth-domain';
import { Metrics } from '@tessera/platform';
import { systemClock } from '@tessera/util';
import { AuthMetrics } from '../common/auth-metrics';
import { AUTH_KEYS, AUTH_METHODS, CLOCK } from '../common/tokens';
import type { AuthKeys } from '../config/auth-keys';
import { CodeDelivery } from '../methods/out-of-band/code-delivery';
import { JwksController } from '../step-up/jwks.controller';
import { StepUpService } from '../step-up/step-up.service';
import { AddressThrottleStore } from '../verification/address-throttle.store';
import { AccountService } from './account.service';
import { SecretBox } from './secret-box';

/**
 * What every feature of auth-service shares: the key material, the methods of @tessera/auth-domain,
 * the account (event-sourced credentials), secrets at rest, step-up assertions, throttle state and
 * code delivery.
 */
@Global()
@Module({})
export class CredentialsModule {
  static register(keys: AuthKeys): DynamicModule {
    const shared = [AUTH_KEYS, AUTH_METHODS, CLOCK, AuthMetrics, SecretBox, AccountService, StepUpService, AddressThrottleStore, CodeDelivery];
    return {
      module: CredentialsModule,
      controllers: [JwksController],
      providers: [
        { provide: AUTH_KEYS, useValue: keys },
        { provide: CLOCK, useValue: systemClock },
        { provide: AuthMetrics, inject: [Metrics], useFactory: (metrics: Metrics) => new AuthMetrics(metrics) },
        {
          provide: AUTH_METHODS,
          inject: [AuthMetrics],
          useFactory: (metrics: AuthMetrics) => createAuthMethods({ outOfBandPepper: keys.otpPepper, backupCodeKdf: metrics.countingKdf() }),
        },
        SecretBox,
        AccountService,
        StepUpService,
        AddressThrottleStore,
        CodeDelivery,
      ],
      exports: shared,
    };
  }
}
