import { z } from 'zod';

/**
 * Configuration comes from environment variables only, validated once at start-up: a service with a
 * bad or missing setting refuses to start and says which variable is wrong (never a half-working
 * service). Each service extends `baseConfigSchema` with its own keys; the README's table and the
 * docker-compose test are checked against `configVariables(schema)`.
 */
const port = z.coerce.number().int().min(0).max(65535);

export const baseConfigSchema = z.object({
  TESSERA_ENV: z.enum(['development', 'test', 'production']).default('development').describe('development, test or production; production refuses the development token issuer'),
  HTTP_HOST: z.string().default('127.0.0.1').describe('address the HTTP server listens on (0.0.0.0 in containers)'),
  HTTP_PORT: port.describe('HTTP port of the REST API, health, metrics and docs'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').describe("postgres:// URL of the service's own database"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20).describe('connections in the database pool'),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((value) => value.split(',').map((broker) => broker.trim()).filter(Boolean))
    .describe('comma-separated Kafka bootstrap brokers'),
  KAFKA_CLIENT_ID: z.string().min(1).optional().describe('Kafka client id (default: the service name)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('JSON log level'),
  HTTP_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024).describe('largest request body accepted (413 above it)'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000).describe('how long SIGTERM waits for in-flight requests'),
  // Bearer tokens of callers (DESIGN.md "Callers and authorisation"): the issuer, the audience, and
  // its public keys either inline (development, tests) or by URL (production). One of the two is required.
  AUTH_ISSUER: z.string().min(1).default('tessera-dev-issuer').describe("issuer (iss) of callers' bearer tokens"),
  AUTH_AUDIENCE: z.string().min(1).default('tessera').describe("audience (aud) callers' tokens must name"),
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional().describe("the token issuer's JWKS endpoint (production); or AUTH_JWKS_JSON"),
  AUTH_JWKS_JSON: z.string().min(2).optional().describe("the token issuer's public JWKS inline (development, tests); or AUTH_JWKS_URL"),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** The gRPC port, for services that serve gRPC (they extend their schema with it). */
export const grpcPortSchema = port;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` with `schema`; throws a ConfigError naming every bad variable (values are never echoed).
 * An empty variable counts as unset, so `VAR=` (or compose's `${VAR:-}`) falls back to the default.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(set);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return result.data;
}

/** The environment variable names a config schema reads. */
export function configVariables(schema: z.ZodObject): string[] {
  return Object.keys(schema.shape).sort();
}
