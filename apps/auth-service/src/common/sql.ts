import type { EntityManager } from 'typeorm';

/** Rows changed by an UPDATE or DELETE (TypeORM's postgres driver answers `[rows, rowCount]`). */
export async function changedRows(manager: EntityManager, sql: string, params: readonly unknown[]): Promise<number> {
  const result: unknown = await manager.query(sql, [...params]);
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
