import { readFileSync } from 'node:fs';
import { type DynamicModule, Module } from '@nestjs/common';
import { CONFIG, DATA_SOURCE, LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { DrillRunnerService } from './drills/drill-runner.service';
import { DrillScheduleService } from './drills/drill-schedule.service';
import { DrillsController } from './drills/drills.controller';
import { PolicyRegistry } from './policy/policy-registry';
import { AuthGrpcAdapter } from './ports/auth-grpc.adapter';
import { SecurityNoticesConsumer } from './notifications/security-notices.consumer';
import { PostgresNoticeDeliveryLedger } from './notifications/notice-delivery.ledger';
import { AuthServiceContactDirectory } from './ports/contact-directory';
import {
  AUTH_PORT,
  type AuthPort,
  CONTACT_DIRECTORY,
  type ContactChannelsPort,
  DEVICES_PORT,
  type DevicesPort,
  IDENTITY_VERIFIER_PORT,
  type IdentityVerifierPort,
  NOTICE_DELIVERY_LEDGER,
  type NoticeDeliveryLedger,
  PAGER_PORT,
  type PagerPort,
  USER_NOTIFIER_PORT,
  type UserNotifierPort,
} from './ports/ports';
import { ChannelNotifier, ComposedContactDirectory, ConfiguredContactDirectory, type ContactDirectory, HttpDevices, WebhookIdentityVerifier, WebhookPager } from './ports/webhook.adapters';
import { CancelLinks } from './recoveries/cancel-links';
import { RecoveriesController } from './recoveries/recoveries.controller';
import { RecoveryLedger } from './recoveries/recovery-ledger';
import { RecoveryStarter } from './recoveries/recovery-starter';
import { RecoveryService } from './recoveries/recovery.service';
import { type RecoveryOrchestratorConfig, notificationChannels } from './service';
import { createRecoveryActivities } from './temporal/recovery.activities';
import { TemporalWorkerService } from './temporal/temporal-worker.service';
import { TemporalModule } from './temporal/temporal.module';
import { RECOVERY_ACTIVITIES } from './temporal/temporal.tokens';

/**
 * Recoveries, incidents and drills: the ledger (decider + event store), the starter, the ports to the
 * world, the activities and the worker that runs them.
 */
@Module({})
export class RecoveryWorkModule {
  static register(): DynamicModule {
    return {
      module: RecoveryWorkModule,
      imports: [TemporalModule.register()],
      controllers: [RecoveriesController, DrillsController],
      providers: [
        {
          provide: PolicyRegistry,
          inject: [CONFIG],
          useFactory: (config: RecoveryOrchestratorConfig) => PolicyRegistry.fromFile(config.RECOVERY_POLICY_FILE, config.RECOVERY_POLICY_VERSION),
        },
        {
          provide: AUTH_PORT,
          inject: [CONFIG],
          useFactory: (config: RecoveryOrchestratorConfig) =>
            new AuthGrpcAdapter(config.AUTH_GRPC_ADDRESS, config.AUTH_GRPC_TOKEN ?? (config.AUTH_SERVICE_TOKEN_FILE ? () => readFileSync(config.AUTH_SERVICE_TOKEN_FILE as string, 'utf8').trim() : undefined)),
        },
        { provide: PAGER_PORT, inject: [CONFIG], useFactory: (config: RecoveryOrchestratorConfig) => new WebhookPager(config.ONCALL_WEBHOOK_URL, config.ONCALL_WEBHOOK_SECRET) },
        {
          provide: IDENTITY_VERIFIER_PORT,
          inject: [CONFIG],
          useFactory: (config: RecoveryOrchestratorConfig) => new WebhookIdentityVerifier(config.IDV_WEBHOOK_URL, config.IDV_WEBHOOK_SECRET),
        },
        { provide: DEVICES_PORT, inject: [CONFIG], useFactory: (config: RecoveryOrchestratorConfig) => new HttpDevices(config.DEVICE_REGISTRY_URL, config.DEVICE_REGISTRY_TOKEN) },
        {
          provide: CancelLinks,
          inject: [CONFIG, DATA_SOURCE],
          useFactory: (config: RecoveryOrchestratorConfig, dataSource: DataSource) =>
            new CancelLinks(CancelLinks.keyRingFrom(config.CANCEL_LINK_KEYS, config.TESSERA_ENV), config.CANCEL_LINK_BASE_URL, config.CANCEL_LINK_LIFETIME, dataSource),
        },
        { provide: NOTICE_DELIVERY_LEDGER, inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => new PostgresNoticeDeliveryLedger(dataSource) },
        {
          // S22's channels: the organisation's directory, the user's confirmed email/SMS factors, the push webhook.
          provide: CONTACT_DIRECTORY,
          inject: [CONFIG, AUTH_PORT, LOGGER],
          useFactory: (config: RecoveryOrchestratorConfig, auth: AuthPort & Partial<ContactChannelsPort>, logger: Logger) => {
            const factors: ContactChannelsPort = { listContactChannels: (userId) => auth.listContactChannels?.(userId) ?? Promise.resolve(null) };
            return new ComposedContactDirectory(
              [new ConfiguredContactDirectory(config.RECOVERY_CONTACTS_JSON), new AuthServiceContactDirectory(factors, logger)],
              Boolean(config.PUSH_WEBHOOK_URL && config.PUSH_WEBHOOK_SECRET),
            );
          },
        },
        {
          provide: ChannelNotifier,
          inject: [CONFIG, CancelLinks, LOGGER, CONTACT_DIRECTORY, NOTICE_DELIVERY_LEDGER],
          useFactory: (config: RecoveryOrchestratorConfig, links: CancelLinks, logger: Logger, contacts: ContactDirectory, ledger: NoticeDeliveryLedger) =>
            new ChannelNotifier(notificationChannels(config), contacts, (subjectId) => links.mint(subjectId), logger, ledger),
        },
        { provide: USER_NOTIFIER_PORT, useExisting: ChannelNotifier },
        SecurityNoticesConsumer,
        RecoveryLedger,
        RecoveryStarter,
        RecoveryService,
        DrillRunnerService,
        {
          provide: RECOVERY_ACTIVITIES,
          inject: [RecoveryLedger, RecoveryStarter, DrillRunnerService, AUTH_PORT, PAGER_PORT, IDENTITY_VERIFIER_PORT, DEVICES_PORT, USER_NOTIFIER_PORT, LOGGER, CONTACT_DIRECTORY],
          useFactory: (
            ledger: RecoveryLedger,
            starter: RecoveryStarter,
            drills: DrillRunnerService,
            auth: AuthPort,
            pager: PagerPort,
            identityVerifier: IdentityVerifierPort,
            devices: DevicesPort,
            notifier: UserNotifierPort,
            logger: Logger,
            contacts: ContactDirectory,
          ) =>
            createRecoveryActivities({
              ledger,
              contacts,
              auth,
              pager,
              identityVerifier,
              devices,
              notifier,
              drills,
              logger,
              startForcedRecovery: async (input) => {
                const { state } = await ledger.loadRecovery(input.recoveryId);
                if (state.status !== 'not-requested') return;
                await starter.start({
                  recoveryId: input.recoveryId,
                  userId: input.userId,
                  kind: 'assisted',
                  requestedBy: { kind: 'helpdesk', id: input.requestedBy, ticketReference: input.ticketReference },
                  actor: { kind: 'security-officer', id: input.requestedBy },
                  correlationId: input.correlationId,
                  reason: `forced by incident ${input.incidentId}`,
                  riskSignals: [],
                  lostFactorIds: input.lostFactorIds,
                  subjectGroups: input.subjectGroups,
                });
              },
            }),
        },
        TemporalWorkerService,
        DrillScheduleService,
      ],
      exports: [RecoveryService, RecoveryLedger, PolicyRegistry],
    };
  }
}
