/**
 * Re-wraps every stored secret under the current key-encryption key, from the command line, against a
 * running service's database (the same job as POST /v1/admin/key-rotation):
 *
 *   AUTH_KEK_RING=… AUTH_KEK_CURRENT=… DATABASE_URL=… node -r @swc-node/register apps/auth-service/src/scripts/rewrap-secrets.ts
 */
import 'reflect-metadata';
import { EnvelopeCipher } from '@tessera/crypto';
import { loadConfig, openDatabase } from '@tessera/platform';
import { authServiceConfigSchema } from '../config/auth-config';
import { loadAuthKeys } from '../config/auth-keys';
import { rewrapAll } from '../keys/rewrap';

async function main(): Promise<void> {
  const config = loadConfig(authServiceConfigSchema, { HTTP_PORT: '0', KAFKA_BROKERS: 'unused:9092', ...process.env });
  const keys = loadAuthKeys(config);
  const dataSource = await openDatabase({ url: config.DATABASE_URL, poolSize: 2, entities: [], migrations: [], applicationName: 'auth-service-rewrap' });
  try {
    const report = await rewrapAll(dataSource, new EnvelopeCipher(keys.keyRing), await keys.keyRing.currentKeyId());
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`rewrap failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
