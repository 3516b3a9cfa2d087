import { MAX_VAULT_BACKUP_BYTES, TOPICS } from '@tessera/contracts';
import { type BaseConfig, baseConfigSchema, grpcPortSchema } from '@tessera/platform';
import { z } from 'zod';

const hostPort = z.string().regex(/^[^:\s/]+:\d{1,5}$/, 'must be host:port');
const positive = (max: number) => z.coerce.number().int().min(1).max(max);

/**
 * device-registry's settings (environment variables only, validated at start-up; the README's table
 * is generated from the descriptions). Everything has a default that works on the local platform
 * except the service token auth-service needs, which is a secret.
 */
export const deviceRegistryConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3102),
  GRPC_PORT: grpcPortSchema.default(4102).describe('gRPC port of its API'),

  // Topic names and the consumer group are settings so that tests can run on topics of their own.
  AUTH_EVENTS_TOPIC: z.string().min(1).max(249).default(TOPICS.auth).describe("topic of auth-service's events it consumes"),
  DEVICE_EVENTS_TOPIC: z.string().min(1).max(249).default(TOPICS.devices).describe('topic its outbox publishes to'),
  AUTH_EVENTS_CONSUMER: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,99}$/)
    .default('auth-events')
    .describe("name of its consumer of auth-service's events (group device-registry.<name>)"),

  AUTH_GRPC_URL: hostPort.default('127.0.0.1:4101').describe("auth-service's gRPC address (RevokeCredential for recoveries and incidents)"),
  AUTH_HTTP_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3101').describe("auth-service's REST base URL (a user's own factor removal)"),
  AUTH_SERVICE_TOKEN: z.string().min(1).optional().describe("its bearer token for auth-service's gRPC (scope factors:manage); or AUTH_SERVICE_TOKEN_FILE"),
  AUTH_SERVICE_TOKEN_FILE: z.string().min(1).optional().describe('file holding that token, read on every call so it can rotate'),

  STEP_UP_JWKS_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:3101/.well-known/jwks.json')
    .describe("auth-service's JWKS, which verifies step-up assertions"),
  STEP_UP_JWKS_JSON: z.string().min(2).optional().describe('the same keys inline (tests, development); used instead of the URL when set'),
  STEP_UP_ISSUER: z.string().min(1).default('tessera-auth-service').describe('issuer (iss) of step-up assertions'),
  STEP_UP_AUDIENCE: z.string().min(1).default('tessera').describe('audience (aud) of step-up assertions'),

  VAULT_MAX_BLOB_BYTES: positive(MAX_VAULT_BACKUP_BYTES).default(1024 * 1024).describe('largest vault blob accepted (413 above it)'),
  VAULT_UPLOADS_PER_HOUR: positive(1_000).default(10).describe('vault uploads per user per hour (429 above it)'),
  VAULT_RESTORES_PER_HOUR: positive(1_000).default(5).describe('vault restores per user per hour (429 above it)'),
  VAULT_MIN_SCRYPT_LOG2N: z.coerce
    .number()
    .int()
    .min(10)
    .max(20)
    .default(17)
    .describe("blobs whose scrypt N·r is below 2^this·8 are refused (17: OWASP's minimum)"),
  AAGUID_CATALOG_JSON: z
    .string()
    .min(2)
    .optional()
    .describe('extra AAGUID → model entries, {"<aaguid>":{"name":"…","category":"security-key"}}'),
});

export type DeviceRegistryConfig = z.infer<typeof deviceRegistryConfigSchema> & BaseConfig;
