import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { testInfra } from './infra';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database on the local platform's PostgreSQL for one test file, so integration tests can run
 * in parallel without sharing state. Dropped (with any connections still open) by `drop()`.
 */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const infra = testInfra();
  const name = `test_${prefix.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  const base = `postgres://tessera:${encodeURIComponent(infra.pgPassword)}@127.0.0.1:${infra.pgPort}`;
  const admin = new Client({ connectionString: `${base}/tessera_auth` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `${base}/${name}`,
    drop: async () => {
      const client = new Client({ connectionString: `${base}/tessera_auth` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
