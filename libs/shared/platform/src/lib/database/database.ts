import { DataSource, type MigrationInterface, type EntitySchema } from 'typeorm';
import type { ReadinessCheck } from '../health/readiness';

type MigrationClass = new () => MigrationInterface;
type EntityClass = abstract new (...args: never[]) => unknown;

export interface DatabaseOptions {
  readonly url: string;
  readonly poolSize: number;
  readonly entities: readonly (EntityClass | EntitySchema)[];
  readonly migrations: readonly MigrationClass[];
  readonly applicationName: string;
}

/**
 * Each service owns one PostgreSQL database. The schema is changed by migrations only (never
 * `synchronize`), applied at start-up in one transaction each; a failed migration stops the start.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    applicationName: options.applicationName,
    entities: [...options.entities],
    migrations: [...options.migrations],
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: options.poolSize, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

export function databaseReadiness(dataSource: DataSource): ReadinessCheck {
  return { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) };
}
