import { type DynamicModule, Module } from '@nestjs/common';
import { protoPath, tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { PlatformModule, type PlatformResources, type ServiceDefinition } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import { ChainModule } from './chain/chain.module';
import { ErasureModule } from './erasure/erasure.module';
import { ExportsModule } from './exports/exports.module';
import { AuditGrpcModule } from './grpc/audit-grpc.module';
import { SecurityHistoryModule } from './history/security-history.module';
import { IngestConsumer } from './ingest/ingest.consumer';
import { IngestModule } from './ingest/ingest.module';
import { AuditLog1732760000000 } from './migrations/1732760000000-audit-log.migration';
import { RecordsModule } from './records/records.module';
import { RetentionModule } from './retention/retention.module';
import { type AuditServiceConfig, auditServiceConfigSchema } from './settings/audit-config';
import { auditSettings } from './settings/audit-settings';
import { VerifyModule } from './verify/verify.module';

export { auditServiceConfigSchema, type AuditServiceConfig } from './settings/audit-config';

@Module({})
export class AuditServiceModule {
  /** `clock`: time is injected (STYLE.md principle 4); tests pass a manual clock to age records. */
  static register(resources: PlatformResources<AuditServiceConfig>, clock?: Clock): DynamicModule {
    const settings = auditSettings(resources.config);
    return {
      module: AuditServiceModule,
      imports: [
        PlatformModule.register(resources),
        EventSourcingModule.forService({
          registry: tesseraEventRegistry(),
          // Every event of every tessera.* topic, known type or not: an audit log that skips what it
          // does not understand is not an audit log. Malformed envelopes still go to the dead-letter topic.
          consumers: [{ name: 'ingest', topics: settings.ingestTopics, handler: IngestConsumer, allowUnknownTypes: true }],
        }),
        ChainModule.register(settings, clock),
        IngestModule,
        RecordsModule,
        SecurityHistoryModule,
        ExportsModule,
        VerifyModule,
        ErasureModule,
        RetentionModule,
        AuditGrpcModule,
      ],
    };
  }
}

export const AuditServiceDefinition: ServiceDefinition<typeof auditServiceConfigSchema> = {
  name: 'audit-service',
  description:
    'Keeps the tamper-evident audit log of every Tessera event (hash chain, Ed25519-signed checkpoints exported to a separate sink), the security history users see, compliance exports and reports, erasure by crypto-shredding and retention.',
  version: '0.1.0',
  configSchema: auditServiceConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS, AuditLog1732760000000],
  grpc: { packages: ['tessera.audit.v1'], protoPaths: [protoPath('audit')] },
  rootModule: (resources) => AuditServiceModule.register(resources),
};
