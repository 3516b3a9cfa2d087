import { EVENT_TOPICS, TOPICS } from '@tessera/contracts';
import { ConfigError, baseConfigSchema, grpcPortSchema } from '@tessera/platform';
import { z } from 'zod';
import { auditSettings } from './audit-settings';

/** Only `tessera.*` topics reach the audit log (the record's `source` is the topic). */
const TOPIC = /^tessera\.[a-z0-9.-]{1,200}$/;
const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const DAY_MS = 86_400_000;

const topicList = z
  .string()
  .transform((value) => value.split(',').map((topic) => topic.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(TOPIC, 'each topic must be a tessera.* topic name')).min(1, 'name at least one topic'));

/**
 * audit-service configuration (environment variables, validated at start-up; values never echoed).
 *
 * Keys: the Ed25519 checkpoint key (RFC 8032) and the key-encryption keys that wrap the per-person
 * data keys (S28) must be configured in production. Elsewhere, when unset, the service uses fixed,
 * publicly known development keys (id `dev-insecure`) so a local log stays verifiable and readable
 * across restarts; it says so in its log, and production refuses to start without real keys.
 */
export const auditServiceConfigSchema = baseConfigSchema
  .extend({
    HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3104),
    GRPC_PORT: grpcPortSchema.default(4104).describe('gRPC port of the AuditService API'),
    AUDIT_INGEST_TOPICS: topicList.default([...EVENT_TOPICS]).describe('comma-separated tessera.* topics recorded in the audit log'),
    AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(1000).describe('R8: sign a checkpoint every N audit records'),
    // Also sign the head when the log is quiet, so the tail protected by the chain alone stays short.
    AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(0).max(DAY_MS).default(60_000).describe('also sign the audit head this often when records arrived (0: only every N)'),
    AUDIT_CHECKPOINT_TOPIC: z.string().regex(TOPIC).default(TOPICS.auditCheckpoints).describe('the separate sink signed audit checkpoints are exported to'),
    AUDIT_CHECKPOINT_KEY_ID: z.string().regex(KEY_ID, 'a key id is 1-32 characters of A-Z a-z 0-9 . _ -').optional().describe('id of the audit checkpoint signing key (required in production)'),
    AUDIT_CHECKPOINT_PRIVATE_KEY: z.string().min(1).optional().describe('Ed25519 private key (PKCS#8 PEM or base64) signing audit checkpoints (required in production)'),
    // JSON {"<key id>": "<PEM or base64 public key>"} of retired checkpoint keys, so old checkpoints still verify.
    AUDIT_CHECKPOINT_PUBLIC_KEYS: z.string().min(2).optional().describe('JSON {keyId: public key} of retired audit checkpoint keys, still trusted'),
    AUDIT_DATA_KEK_RING: z.string().min(1).optional().describe('S28 key-encryption keys wrapping audit data keys, id:base64key,… (required in production)'),
    AUDIT_DATA_KEK_CURRENT: z.string().regex(KEY_ID, 'a key id is 1-32 characters of A-Z a-z 0-9 . _ -').optional().describe('id of the key that wraps new audit data keys (required in production)'),
    // Unset: records are kept for ever (until an administrator sets a retention through the API).
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional().describe('days audit records are kept (unset: for ever, unless set through the API)'),
    // The floor under any retention, from configuration or the API: an administrator cannot empty the log.
    AUDIT_RETENTION_MIN_DAYS: z.coerce.number().int().min(0).max(36_500).default(365).describe('floor under any audit retention, from configuration or the API'),
    AUDIT_RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).max(7 * DAY_MS).default(3_600_000).describe('how often audit retention is applied (0: only on request)'),
  })
  .superRefine((config, context) => {
    const problems: [string, string][] = [];
    if (config.TESSERA_ENV === 'production') {
      for (const name of ['AUDIT_CHECKPOINT_KEY_ID', 'AUDIT_CHECKPOINT_PRIVATE_KEY', 'AUDIT_DATA_KEK_RING', 'AUDIT_DATA_KEK_CURRENT'] as const) {
        if (config[name] === undefined) problems.push([name, 'required in production (the development key is refused)']);
      }
    }
    if ((config.AUDIT_CHECKPOINT_KEY_ID === undefined) !== (config.AUDIT_CHECKPOINT_PRIVATE_KEY === undefined)) {
      problems.push(['AUDIT_CHECKPOINT_KEY_ID', 'set together with AUDIT_CHECKPOINT_PRIVATE_KEY']);
    }
    if ((config.AUDIT_DATA_KEK_RING === undefined) !== (config.AUDIT_DATA_KEK_CURRENT === undefined)) {
      problems.push(['AUDIT_DATA_KEK_CURRENT', 'set together with AUDIT_DATA_KEK_RING']);
    }
    if (config.AUDIT_RETENTION_DAYS !== undefined && config.AUDIT_RETENTION_DAYS < config.AUDIT_RETENTION_MIN_DAYS) {
      problems.push(['AUDIT_RETENTION_DAYS', 'must not be below AUDIT_RETENTION_MIN_DAYS']);
    }
    // Parse the keys now, so a bad key stops the start before anything opens (messages never quote a
    // key); only once every setting has passed its own check.
    if (problems.length === 0 && context.issues.length === 0) {
      try {
        auditSettings(config);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        for (const problem of error.problems) {
          const [name, ...rest] = problem.split(': ');
          problems.push([name, rest.join(': ') || problem]);
        }
      }
    }
    for (const [name, message] of problems) context.addIssue({ code: 'custom', path: [name], message });
  });

export type AuditServiceConfig = z.infer<typeof auditServiceConfigSchema>;
