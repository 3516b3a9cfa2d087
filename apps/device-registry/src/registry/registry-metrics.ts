import { Inject, Injectable } from '@nestjs/common';
import { Metrics } from '@tessera/platform';
import { Counter } from 'prom-client';

/** device-registry's own Prometheus series, beside the platform's HTTP and consumer metrics. */
@Injectable()
export class RegistryMetrics {
  /** Device revocations by who asked (user, recovery, incident) and how they ended. */
  readonly revocations: Counter<'authority' | 'outcome'>;
  /** Vault uploads and restores by outcome; a spike of restores is worth an alert. */
  readonly vault: Counter<'operation' | 'outcome'>;

  constructor(@Inject(Metrics) metrics: Metrics) {
    const registers = [metrics.registry];
    this.revocations = new Counter({
      name: 'device_registry_revocations_total',
      help: 'Device revocations by authority and outcome (revoked, already_revoked, refused, unavailable)',
      labelNames: ['authority', 'outcome'],
      registers,
    });
    this.vault = new Counter({
      name: 'device_registry_vault_operations_total',
      help: 'Vault uploads and restores by outcome',
      labelNames: ['operation', 'outcome'],
      registers,
    });
  }
}
