import type { EnvelopeCipher } from '@tessera/crypto';
import type { DataSource } from 'typeorm';
import { changedRows } from '../common/sql';

/** Every column that holds an envelope ciphertext (S28), with its key column. */
const ENCRYPTED_COLUMNS = [
  { table: 'totp_seeds', column: 'seed_ciphertext' },
  { table: 'oob_channels', column: 'destination_ciphertext' },
] as const;

export interface RewrapReport {
  readonly currentKeyId: string;
  readonly examined: number;
  readonly rewrapped: number;
  /** Changed by someone else between read and write (re-enrolled, revoked): left as they now are. */
  readonly skipped: number;
}

/**
 * Key rotation without downtime (S28; @tessera/crypto README "Rotation"): each ciphertext whose data
 * key is wrapped under an older KEK is re-wrapped under the current one — the secret itself is never
 * decrypted — and written back with a compare-and-set, in batches, while the service keeps serving.
 */
export async function rewrapAll(dataSource: DataSource, cipher: EnvelopeCipher, currentKeyId: string, batchSize = 200): Promise<RewrapReport> {
  let examined = 0;
  let rewrapped = 0;
  let skipped = 0;
  for (const { table, column } of ENCRYPTED_COLUMNS) {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: { credential_id: string; value: string }[] = await dataSource.query(
        `SELECT credential_id, ${column} AS value FROM ${table} WHERE credential_id > $1 ORDER BY credential_id LIMIT $2`,
        [after, batchSize],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1].credential_id;
      for (const row of rows) {
        examined++;
        if (!(await cipher.needsRewrap(row.value))) continue;
        const next = await cipher.rewrap(row.value);
        const changed = await changedRows(dataSource.manager, `UPDATE ${table} SET ${column} = $3 WHERE credential_id = $1 AND ${column} = $2`, [
          row.credential_id,
          row.value,
          next,
        ]);
        if (changed === 1) rewrapped++;
        else skipped++;
      }
    }
  }
  return { currentKeyId, examined, rewrapped, skipped };
}
