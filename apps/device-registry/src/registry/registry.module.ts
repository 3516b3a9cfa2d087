import { type DynamicModule, Module } from '@nestjs/common';
import { type AuthenticatorModel, createAaguidCatalog } from '@tessera/device-domain';
import { ConfigError } from '@tessera/platform';
import { systemClock } from '@tessera/util';
import { AAGUID_CATALOG, CLOCK, STEP_UP_VERIFIER } from '../common/tokens';
import { type DeviceRegistryConfig } from '../config';
import { CredentialFactsRepository } from './credential-facts.repository';
import { DeviceCommands } from './device-commands';
import { DeviceViewsRepository } from './device-views.repository';
import { Housekeeping } from './housekeeping';
import { RateLimiter } from './rate-limiter';
import { ReadinessAssessor } from './readiness-assessor';
import { RegistryMetrics } from './registry-metrics';
import { StepUpVerifier } from './step-up.verifier';

const SHARED = [DeviceViewsRepository, CredentialFactsRepository, ReadinessAssessor, DeviceCommands, RateLimiter, RegistryMetrics];

/**
 * What every feature of device-registry builds on: the read models, the one path for device commands
 * (with readiness re-assessment), step-up verification, rate limits, the clock and the AAGUID catalog.
 */
@Module({})
export class RegistryModule {
  static register(config: DeviceRegistryConfig): DynamicModule {
    return {
      module: RegistryModule,
      // Registered once by the root module with the configuration; every feature module sees it.
      global: true,
      providers: [
        ...SHARED,
        Housekeeping,
        { provide: CLOCK, useValue: systemClock },
        { provide: AAGUID_CATALOG, useValue: aaguidCatalog(config) },
        {
          provide: STEP_UP_VERIFIER,
          useValue: new StepUpVerifier({
            // Inline keys (tests, development) take precedence over the URL of auth-service's JWKS.
            jwks: config.STEP_UP_JWKS_JSON ? { json: parseJwks(config.STEP_UP_JWKS_JSON) } : { url: config.STEP_UP_JWKS_URL },
            issuer: config.STEP_UP_ISSUER,
            audience: config.STEP_UP_AUDIENCE,
          }),
        },
      ],
      exports: [...SHARED, CLOCK, AAGUID_CATALOG, STEP_UP_VERIFIER],
    };
  }
}

function aaguidCatalog(config: DeviceRegistryConfig) {
  if (!config.AAGUID_CATALOG_JSON) return createAaguidCatalog();
  try {
    return createAaguidCatalog(JSON.parse(config.AAGUID_CATALOG_JSON) as Record<string, AuthenticatorModel>);
  } catch (error) {
    throw new ConfigError([`AAGUID_CATALOG_JSON: ${(error as Error).message}`]);
  }
}

function parseJwks(json: string): string {
  try {
    const parsed = JSON.parse(json) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
  } catch (error) {
    throw new ConfigError([`STEP_UP_JWKS_JSON: not a JWKS document (${(error as Error).message})`]);
  }
  return json;
}
