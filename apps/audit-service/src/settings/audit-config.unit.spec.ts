import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '@tessera/platform';
import { auditServiceConfigSchema } from './audit-config';
import { DEVELOPMENT_KEY_ID, auditSettings } from './audit-settings';

const base = { DATABASE_URL: 'postgres://db/audit', KAFKA_BROKERS: '127.0.0.1:9092' };
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const kek = () => `k1:${randomBytes(32).toString('base64')}`;

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(auditServiceConfigSchema, { ...base, ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('audit-service configuration', () => {
  it('outside production it runs on the public development keys, which it says are in use', () => {
    const settings = auditSettings(loadConfig(auditServiceConfigSchema, base));
    expect(settings).toMatchObject({ developmentKeys: true, signer: { keyId: DEVELOPMENT_KEY_ID }, checkpointPolicy: { every: 1000 }, ingestTopics: ['tessera.auth.v1', 'tessera.devices.v1', 'tessera.recovery.v1'] });
  });

  it('production refuses to start without a real checkpoint key and key-encryption key, naming the variables', () => {
    const found = problems({ TESSERA_ENV: 'production' });
    expect(found.map((problem) => problem.split(':')[0]).sort()).toEqual(['AUDIT_CHECKPOINT_KEY_ID', 'AUDIT_CHECKPOINT_PRIVATE_KEY', 'AUDIT_DATA_KEK_CURRENT', 'AUDIT_DATA_KEK_RING']);
  });

  it('production starts with configured keys, and the public key ring holds the current key and retired ones', () => {
    const retired = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const config = loadConfig(auditServiceConfigSchema, {
      ...base,
      TESSERA_ENV: 'production',
      AUDIT_CHECKPOINT_KEY_ID: 'cp-2026',
      AUDIT_CHECKPOINT_PRIVATE_KEY: pem(),
      AUDIT_CHECKPOINT_PUBLIC_KEYS: JSON.stringify({ 'cp-2025': retired }),
      AUDIT_DATA_KEK_RING: kek(),
      AUDIT_DATA_KEK_CURRENT: 'k1',
    });
    const settings = auditSettings(config);
    expect(settings.developmentKeys).toBe(false);
    expect([...settings.publicKeys.keys()].sort()).toEqual(['cp-2025', 'cp-2026']);
  });

  it('S30: a bad key is named by its variable and never echoed', () => {
    const secret = randomBytes(20).toString('base64');
    const found = problems({ AUDIT_CHECKPOINT_KEY_ID: 'cp-1', AUDIT_CHECKPOINT_PRIVATE_KEY: secret });
    expect(found.join('\n')).toContain('AUDIT_CHECKPOINT_PRIVATE_KEY');
    expect(found.join('\n')).not.toContain(secret);
    const ring = `k1:${randomBytes(31).toString('base64')}`;
    const kekProblems = problems({ AUDIT_DATA_KEK_RING: ring, AUDIT_DATA_KEK_CURRENT: 'k1' });
    expect(kekProblems.join('\n')).toContain('AUDIT_DATA_KEK_RING');
    expect(kekProblems.join('\n')).not.toContain(ring.slice(3));
  });

  it.each([
    [{ AUDIT_INGEST_TOPICS: 'orders.v1' }, 'AUDIT_INGEST_TOPICS'],
    [{ AUDIT_INGEST_TOPICS: ' , ' }, 'AUDIT_INGEST_TOPICS'],
    [{ AUDIT_CHECKPOINT_EVERY: '0' }, 'AUDIT_CHECKPOINT_EVERY'],
    [{ AUDIT_CHECKPOINT_KEY_ID: 'cp-1' }, 'AUDIT_CHECKPOINT_KEY_ID'],
    [{ AUDIT_DATA_KEK_RING: 'k1:x' }, 'AUDIT_DATA_KEK_CURRENT'],
    [{ AUDIT_RETENTION_DAYS: '30' }, 'AUDIT_RETENTION_DAYS'],
    [{ AUDIT_CHECKPOINT_PUBLIC_KEYS: '{"cp-1": 42}' }, 'AUDIT_CHECKPOINT_PUBLIC_KEYS'],
    [{ AUDIT_CHECKPOINT_PUBLIC_KEYS: JSON.stringify({ [DEVELOPMENT_KEY_ID]: 'x' }) }, 'AUDIT_CHECKPOINT_PUBLIC_KEYS'],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(problems(env).some((problem) => problem.startsWith(variable))).toBe(true);
  });
});
