import { type DynamicModule, Module } from '@nestjs/common';
import { protoPath, TOPICS, tesseraEventRegistry } from '@tessera/contracts';
import { EVENT_STORE_MIGRATIONS, EventSourcingModule } from '@tessera/event-store';
import { createSmtpChannel, createWebhookChannel, type NotificationChannels } from '@tessera/notifications';
import { baseConfigSchema, grpcPortSchema, PlatformModule, type PlatformResources, type ServiceDefinition } from '@tessera/platform';
import { tryParseDuration } from '@tessera/recovery-domain';
import { DRILL_SCHEDULE_ID, RECOVERY_TASK_QUEUE } from '@tessera/recovery-workflows';
import { z } from 'zod';
import { RecoveryGrpcController } from './grpc/recovery-grpc.controller';
import { IncidentsController } from './incidents/incidents.controller';
import { CodecController } from './temporal/codec.controller';
import { NoticeDeliveries1733100000000 } from './notifications/notice-deliveries.migration';
import { SecurityNoticesConsumer } from './notifications/security-notices.consumer';
import { AuthLinkConsumer } from './auth-events/auth-link.consumer';
import { RecoverySchema1732900000000 } from './persistence/recovery-schema.migration';
import { RecoveryReadModelProjection } from './persistence/recovery-read-model.projection';
import { RecoveryWorkModule } from './recovery-work.module';

const optionalText = z.string().min(1).optional();
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((text) => tryParseDuration(text) !== undefined, 'must be a duration such as "24h" or "7d"')
    .transform((text) => tryParseDuration(text) as number);

export const recoveryOrchestratorConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3103),
  GRPC_PORT: grpcPortSchema.default(4103).describe('gRPC port of tessera.recovery.v1.RecoveryService'),
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('tessera'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(RECOVERY_TASK_QUEUE),
  RECOVERY_POLICY_FILE: optionalText.describe('JSON file with the recovery policy documents (one or an array), validated at start-up'),
  RECOVERY_POLICY_VERSION: z.string().min(1).default('default-1').describe('the policy version new recoveries start under'),
  AUTH_GRPC_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').default('127.0.0.1:4101').describe("host:port of auth-service's gRPC API"),
  AUTH_GRPC_TOKEN: optionalText.describe('bearer token the orchestrator presents to auth-service (or AUTH_SERVICE_TOKEN_FILE)'),
  AUTH_SERVICE_TOKEN_FILE: optionalText.describe("file holding this service's own bearer token for calls to the other services"),
  // Settings so that tests can consume on a group of their own (as device-registry's of the same names).
  AUTH_EVENTS_TOPIC: z.string().min(1).max(249).default(TOPICS.auth).describe("topic of auth-service's events it consumes"),
  AUTH_EVENTS_CONSUMER: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,99}$/)
    .default('auth-link')
    .describe("name of its consumer of auth-service's events (group recovery-orchestrator.<name>): passes redeemed, factors bound in a recovery"),
  ONCALL_WEBHOOK_URL: optionalText.describe('signed webhook that pages on-call and reminds staff (approvals pending, reviews open)'),
  ONCALL_WEBHOOK_SECRET: optionalText.describe('its HMAC secret (at least 32 bytes)'),
  IDV_WEBHOOK_URL: optionalText.describe('identity-verification provider, asked through a signed webhook'),
  IDV_WEBHOOK_SECRET: optionalText.describe('its HMAC secret'),
  DEVICE_REGISTRY_URL: optionalText.describe("device-registry's base URL, to revoke devices in an incident"),
  DEVICE_REGISTRY_TOKEN: optionalText.describe('bearer token for device-registry'),
  SMTP_HOST: optionalText.describe('mail server of security notices (S22; unset: no email notices)'),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587).describe('its port'),
  SMTP_SECURITY: z.enum(['implicit-tls', 'starttls', 'none']).default('starttls').describe('implicit-tls, starttls, or none (loopback relays only)'),
  SMTP_FROM: optionalText.describe('sender address of security notices'),
  SMS_WEBHOOK_URL: optionalText.describe('SMS gateway of security notices (signed webhook)'),
  SMS_WEBHOOK_SECRET: optionalText.describe('its HMAC secret (at least 32 bytes)'),
  PUSH_WEBHOOK_URL: optionalText.describe("organisation-wide push webhook: every user's notices also go there, addressed by user id"),
  PUSH_WEBHOOK_SECRET: optionalText.describe('its HMAC secret (at least 32 bytes)'),
  RECOVERY_CONTACTS_JSON: optionalText.describe(
    '{"<userId>":[{"kind":"email","address":"…"}]}: the organisation\'s addresses of record, notified besides the email/SMS factors auth-service holds',
  ),
  NOTICES_CONSUMER: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .default('notices')
    .describe("name of its consumer of auth-service's and device-registry's events for security notices (group recovery-orchestrator.<name>)"),
  NOTICES_MAX_AGE: duration('3d').describe('binding/removal events older than this get no notice (a new consumer group reads the topics from their start)'),
  CANCEL_LINK_KEYS: optionalText.describe('"kid:base64key,…" HMAC keys of "this wasn\'t me" links; the first signs (required in production)'),
  TEMPORAL_UI_ORIGIN: z
    .string()
    .regex(/^https?:\/\/[^/\s]+$/, 'must be an origin such as http://127.0.0.1:8233')
    .default('http://127.0.0.1:8233')
    .describe('origin of the Temporal Web UI allowed to call /codec/decode (development only)'),
  TEMPORAL_PAYLOAD_KEYS: optionalText.describe('"kid:base64key,…" AES-256 keys sealing Temporal payloads; the first encrypts, all decrypt (required in production)'),
  CANCEL_LINK_BASE_URL: z.string().default('http://127.0.0.1:3103/recover/cancel').describe('the page that receives "this wasn\'t me" links'),
  CANCEL_LINK_LIFETIME: duration('14d'),
  DRILL_USER_ID: optionalText.describe('the synthetic test account recovery drills recover'),
  DRILL_INTERVAL: optionalText.describe('how often the drill schedule runs, e.g. "24h" (unset: no schedule)'),
  DRILL_SCHEDULE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default(DRILL_SCHEDULE_ID).describe('id of the Temporal Schedule that runs drills'),
  DRILL_TIMER_FACTOR: z.coerce.number().int().min(1).max(100_000).default(1000).describe('drill timers are the policy timers divided by this'),
  SYNTHETIC_TEST_ACCOUNTS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((id) => id.trim()).filter(Boolean))
    .describe('comma-separated synthetic accounts (only they accept drill policies)'),
});
export type RecoveryOrchestratorConfig = z.infer<typeof recoveryOrchestratorConfigSchema>;

/** Whether any channel for security notices is configured; without one the notices consumer does not run. */
export function hasNotificationChannel(config: RecoveryOrchestratorConfig): boolean {
  return Object.keys(notificationChannels(config)).length > 0;
}

/** The notification adapters configured (the shared library's; S22). */
export function notificationChannels(config: RecoveryOrchestratorConfig): NotificationChannels {
  return {
    ...(config.SMTP_HOST && config.SMTP_FROM ? { email: createSmtpChannel({ host: config.SMTP_HOST, port: config.SMTP_PORT, security: config.SMTP_SECURITY, from: { address: config.SMTP_FROM } }) } : {}),
    ...(config.SMS_WEBHOOK_URL && config.SMS_WEBHOOK_SECRET ? { sms: createWebhookChannel({ kind: 'sms', url: config.SMS_WEBHOOK_URL, secret: config.SMS_WEBHOOK_SECRET }) } : {}),
    ...(config.PUSH_WEBHOOK_URL && config.PUSH_WEBHOOK_SECRET ? { webhook: createWebhookChannel({ kind: 'webhook', url: config.PUSH_WEBHOOK_URL, secret: config.PUSH_WEBHOOK_SECRET }) } : {}),
  };
}

@Module({})
export class RecoveryOrchestratorModule {
  static register(resources: PlatformResources<RecoveryOrchestratorConfig>): DynamicModule {
    const config = resources.config;
    return {
      module: RecoveryOrchestratorModule,
      imports: [
        PlatformModule.register(resources),
        EventSourcingModule.forService({
          topic: TOPICS.recovery,
          registry: tesseraEventRegistry(),
          projections: [RecoveryReadModelProjection],
          consumers: [
            { name: config.AUTH_EVENTS_CONSUMER, topics: [config.AUTH_EVENTS_TOPIC], handler: AuthLinkConsumer },
            // S22: binding, removal and restore notices, from auth-service's and device-registry's events.
            ...(hasNotificationChannel(config) ? [{ name: config.NOTICES_CONSUMER, topics: [TOPICS.auth, TOPICS.devices], handler: SecurityNoticesConsumer }] : []),
          ],
        }),
        RecoveryWorkModule.register(),
      ],
      controllers: [IncidentsController, RecoveryGrpcController, CodecController],
      providers: [AuthLinkConsumer],
    };
  }
}

export const RecoveryOrchestratorDefinition: ServiceDefinition<typeof recoveryOrchestratorConfigSchema> = {
  name: 'recovery-orchestrator',
  description: 'Runs account recovery and incident response as durable Temporal workflows: approvals, cooling-off, temporary access passes, notifications and drills.',
  version: '0.1.0',
  configSchema: recoveryOrchestratorConfigSchema,
  entities: [],
  migrations: [...EVENT_STORE_MIGRATIONS, RecoverySchema1732900000000, NoticeDeliveries1733100000000],
  grpc: { packages: ['tessera.recovery.v1'], protoPaths: [protoPath('recovery')] },
  rootModule: (resources) => RecoveryOrchestratorModule.register(resources),
};
