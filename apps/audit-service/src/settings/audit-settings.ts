import { createHash, createPublicKey } from 'node:crypto';
import {
  type CheckpointPolicy,
  type CheckpointSigner,
  parseCheckpointPolicy,
  parseCheckpointSigner,
  parsePublicKeyRing,
  type PublicKeyRing,
  SigningKeyError,
} from '@tessera/audit-domain';
import { CryptoError, EnvelopeCipher, parseKeyRing } from '@tessera/crypto';
import { ConfigError } from '@tessera/platform';
import type { AuditServiceConfig } from './audit-config';

/** What the audit service runs with, parsed once from configuration. Holds keys: never log it. */
export interface AuditSettings {
  readonly signer: CheckpointSigner;
  /** The current key's public half plus retired ones: what verification trusts. */
  readonly publicKeys: PublicKeyRing;
  readonly checkpointPolicy: CheckpointPolicy;
  readonly checkpointIntervalMs: number;
  readonly checkpointTopic: string;
  readonly ingestTopics: readonly string[];
  /** Wraps per-person data keys under the key-encryption key (S28). */
  readonly dataKeyCipher: EnvelopeCipher;
  readonly retention: { readonly defaultDays: number | null; readonly minDays: number; readonly intervalMs: number };
  /** True when a publicly known development key is in use (never in production). */
  readonly developmentKeys: boolean;
}

export const DEVELOPMENT_KEY_ID = 'dev-insecure';

/**
 * Fixed development keys, derived from public labels: anyone can compute them, which is the point —
 * they only keep a local log verifiable across restarts. The config schema refuses production
 * without real keys, and this function refuses them there too.
 */
function developmentSeed(label: string): string {
  return createHash('sha256').update(`tessera.audit.development-only.${label}`, 'utf8').digest('base64');
}

export function auditSettings(config: AuditServiceConfig): AuditSettings {
  const production = config.TESSERA_ENV === 'production';
  const developmentKeys = config.AUDIT_CHECKPOINT_PRIVATE_KEY === undefined || config.AUDIT_DATA_KEK_RING === undefined;
  if (production && developmentKeys) throw new ConfigError(['AUDIT_CHECKPOINT_PRIVATE_KEY, AUDIT_DATA_KEK_RING: required in production']);

  let signer: CheckpointSigner;
  try {
    signer = parseCheckpointSigner(
      config.AUDIT_CHECKPOINT_PRIVATE_KEY === undefined
        ? { keyId: DEVELOPMENT_KEY_ID, privateKey: developmentSeed('checkpoint-key') }
        : { keyId: config.AUDIT_CHECKPOINT_KEY_ID ?? '', privateKey: config.AUDIT_CHECKPOINT_PRIVATE_KEY },
    );
  } catch (error) {
    // SigningKeyError messages name the setting and never quote the key.
    if (error instanceof SigningKeyError) throw new ConfigError([`AUDIT_CHECKPOINT_PRIVATE_KEY: ${error.message}`]);
    throw error;
  }

  const ring = new Map(retiredPublicKeys(config.AUDIT_CHECKPOINT_PUBLIC_KEYS));
  if (ring.has(signer.keyId)) throw new ConfigError(['AUDIT_CHECKPOINT_PUBLIC_KEYS: lists the current signing key id; list retired keys only']);
  ring.set(signer.keyId, createPublicKey(signer.privateKey));

  let dataKeyCipher: EnvelopeCipher;
  try {
    dataKeyCipher = new EnvelopeCipher(
      config.AUDIT_DATA_KEK_RING === undefined
        ? parseKeyRing(`${DEVELOPMENT_KEY_ID}:${developmentSeed('data-key-encryption-key')}`, DEVELOPMENT_KEY_ID)
        : parseKeyRing(config.AUDIT_DATA_KEK_RING, config.AUDIT_DATA_KEK_CURRENT ?? ''),
    );
  } catch (error) {
    if (error instanceof CryptoError) throw new ConfigError([`AUDIT_DATA_KEK_RING: ${error.message}`]);
    throw error;
  }

  return {
    signer,
    publicKeys: ring,
    checkpointPolicy: parseCheckpointPolicy({ every: config.AUDIT_CHECKPOINT_EVERY }),
    checkpointIntervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS,
    checkpointTopic: config.AUDIT_CHECKPOINT_TOPIC,
    ingestTopics: config.AUDIT_INGEST_TOPICS,
    dataKeyCipher,
    retention: { defaultDays: config.AUDIT_RETENTION_DAYS ?? null, minDays: config.AUDIT_RETENTION_MIN_DAYS, intervalMs: config.AUDIT_RETENTION_INTERVAL_MS },
    developmentKeys,
  };
}

function retiredPublicKeys(json: string | undefined): PublicKeyRing {
  if (json === undefined) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError(['AUDIT_CHECKPOINT_PUBLIC_KEYS: not valid JSON (expected {"<key id>": "<public key>"})']);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((value) => typeof value === 'string')) {
    throw new ConfigError(['AUDIT_CHECKPOINT_PUBLIC_KEYS: expected an object of key id to public key text']);
  }
  try {
    return parsePublicKeyRing(parsed as Record<string, string>);
  } catch (error) {
    if (error instanceof SigningKeyError) throw new ConfigError([`AUDIT_CHECKPOINT_PUBLIC_KEYS: ${error.message}`]);
    throw error;
  }
}
