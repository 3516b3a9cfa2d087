import { connect } from 'node:net';
import { testInfra } from './lib/infra';

/**
 * Integration tests use the real PostgreSQL, Kafka and Temporal started by `infra/local/platform`.
 * Fail at once, saying what to run, rather than letting every test time out.
 */
export default async function globalSetup(): Promise<void> {
  const infra = testInfra();
  const targets = [
    ['PostgreSQL', infra.pgPort],
    ['Kafka', infra.kafkaPort],
    ['Temporal', infra.temporalPort],
  ] as const;
  const down: string[] = [];
  for (const [name, port] of targets) {
    if (!(await listening(port))) down.push(`${name} (127.0.0.1:${port})`);
  }
  if (down.length > 0) {
    throw new Error(`Integration tests need ${down.join(', ')}. Start them with: infra/local/platform infra`);
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
