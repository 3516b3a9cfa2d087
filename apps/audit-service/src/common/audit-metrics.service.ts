import { Inject, Injectable } from '@nestjs/common';
import { Metrics } from '@tessera/platform';
import { Counter, Gauge } from 'prom-client';

/** The audit log's Prometheus metrics, on the service's own registry. */
@Injectable()
export class AuditMetrics {
  readonly recordsAppended: Counter<'source'>;
  readonly checkpointsCreated: Counter<'trigger'>;
  readonly headPosition: Gauge;
  readonly checkpointsUnpublished: Gauge;
  readonly verifications: Counter<'result'>;

  constructor(@Inject(Metrics) metrics: Metrics) {
    const registers = [metrics.registry];
    this.recordsAppended = new Counter({ name: 'audit_records_appended_total', help: 'Records appended to the audit chain, by source topic', labelNames: ['source'], registers });
    this.checkpointsCreated = new Counter({ name: 'audit_checkpoints_created_total', help: 'Signed checkpoints, by what triggered them (count, interval)', labelNames: ['trigger'], registers });
    this.headPosition = new Gauge({ name: 'audit_chain_head_position', help: 'Position of the newest record in the audit chain', registers });
    this.checkpointsUnpublished = new Gauge({ name: 'audit_checkpoints_unpublished', help: 'Signed checkpoints not yet in the separate sink', registers });
    this.verifications = new Counter({ name: 'audit_verifications_total', help: 'Chain verifications run, by result (ok, failed)', labelNames: ['result'], registers });
  }
}
