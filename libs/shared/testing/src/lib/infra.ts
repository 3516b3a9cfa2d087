import { resolve } from 'node:path';

/** Where the local platform's services listen (infra/local/ports.env; overridable by the same variables). */
export function testInfra() {
  const env = process.env;
  const root = resolve(__dirname, '../../../../..');
  return {
    root,
    pgPort: Number(env.TESSERA_PG_PORT ?? 55432),
    pgPassword: env.TESSERA_PG_PASSWORD ?? 'tessera-local',
    kafkaPort: Number(env.TESSERA_KAFKA_PORT ?? 59092),
    temporalPort: Number(env.TESSERA_TEMPORAL_PORT ?? 7233),
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'tessera',
    temporalTestServer: resolve(root, '.local/venv/bin/temporal-test-server'),
  };
}
