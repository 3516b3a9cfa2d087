import { Inject, Injectable } from '@nestjs/common';
import { type DataKey, type DataKeyLookup, type DataKeyState, createDataKey, dataKeyFromBytes } from '@tessera/audit-domain';
import type { EncryptionContext } from '@tessera/crypto';
import type { EntityManager } from 'typeorm';
import { AUDIT_SETTINGS } from '../audit.tokens';
import type { AuditSettings } from '../settings/audit-settings';

interface KeyRow {
  key_id: string;
  person_id: string | null;
  wrapped_key: string | null;
  destroyed_at: Date | null;
}

/** Binds a wrapped key to its person and id (S28): a wrapped key copied to another row does not open. */
function wrapContext(personId: string, keyId: string): EncryptionContext {
  return { userId: personId, credentialId: keyId, purpose: 'tessera.audit.data-key' };
}

/**
 * The per-person data keys of crypto-shredding (libs/audit/domain ERASURE.md), stored wrapped under
 * the key-encryption key with @tessera/crypto's envelope encryption (S28). A person is the user an
 * event is about, or the staff member acting when it is about nobody.
 *
 * Unwrapped keys are never cached: unwrapping is two AES-GCM operations, and a cache would keep
 * plaintext keys in memory and could outlive an erasure.
 */
@Injectable()
export class DataKeyStore {
  constructor(@Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings) {}

  /**
   * The active key of each person, created for those without one. New keys are inserted in person
   * order so concurrent batches take the unique index's locks in one order (no deadlock), and a
   * concurrent insert of the same person resolves to the row that committed first.
   */
  async keysFor(manager: EntityManager, personIds: Iterable<string>, now: Date): Promise<Map<string, DataKey>> {
    const ids = [...new Set(personIds)].sort();
    const keys = new Map<string, DataKey>();
    if (ids.length === 0) return keys;
    let rows: KeyRow[] = await manager.query(`SELECT key_id, person_id, wrapped_key, destroyed_at FROM audit_data_keys WHERE person_id = ANY($1::text[])`, [ids]);
    const found = new Set(rows.map((row) => row.person_id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) {
      const fresh = missing.map((personId) => ({ personId, key: createDataKey() }));
      const wrapped = await Promise.all(fresh.map(({ personId, key }) => this.wrap(personId, key)));
      await manager.query(
        `INSERT INTO audit_data_keys (key_id, person_id, wrapped_key, created_at)
         SELECT key_id, person_id, wrapped_key, $4::timestamptz FROM unnest($1::text[], $2::text[], $3::text[]) AS n(key_id, person_id, wrapped_key)
         ORDER BY person_id
         ON CONFLICT (person_id) DO NOTHING`,
        [fresh.map(({ key }) => key.keyId), missing, wrapped, now.toISOString()],
      );
      rows = rows.concat(await manager.query(`SELECT key_id, person_id, wrapped_key, destroyed_at FROM audit_data_keys WHERE person_id = ANY($1::text[])`, [missing]));
    }
    for (const row of rows) {
      const key = await this.unwrap(row);
      // Sealing under a new key would split a person's records; stop and let the operator fix the KEK ring.
      if (key === null || row.person_id === null) throw new Error(`data key ${row.key_id} does not unwrap: is its key-encryption key still in AUDIT_DATA_KEK_RING?`);
      keys.set(row.person_id, key);
    }
    return keys;
  }

  /** The id of a person's active key (their records' `subjectRef`), or null when they have none. */
  async keyIdOf(manager: EntityManager, personId: string): Promise<string | null> {
    const rows: { key_id: string }[] = await manager.query(`SELECT key_id FROM audit_data_keys WHERE person_id = $1`, [personId]);
    return rows[0]?.key_id ?? null;
  }

  /** Active keys and tombstones by key id, for opening the sealed blocks of the records read. */
  async lookup(manager: EntityManager, keyIds: Iterable<string>): Promise<DataKeyLookup> {
    const ids = [...new Set(keyIds)];
    const states = new Map<string, DataKeyState>();
    if (ids.length > 0) {
      const rows: KeyRow[] = await manager.query(`SELECT key_id, person_id, wrapped_key, destroyed_at FROM audit_data_keys WHERE key_id = ANY($1::text[])`, [ids]);
      for (const row of rows) {
        if (row.destroyed_at !== null) {
          states.set(row.key_id, { status: 'destroyed', keyId: row.key_id, destroyedAt: row.destroyed_at.toISOString() });
          continue;
        }
        const key = await this.unwrap(row);
        if (key !== null) states.set(row.key_id, { status: 'active', keyId: key.keyId, key: key.key });
      }
    }
    return (keyId) => states.get(keyId);
  }

  /**
   * Erasure: the person's key becomes a tombstone and their id leaves the key store. Every record
   * sealed under it reads as erased from then on; the records and the chain are untouched.
   */
  async destroy(manager: EntityManager, personId: string, now: Date): Promise<{ keyId: string; destroyedAt: string } | null> {
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
    const rows: { key_id: string }[] = await manager.query(
      `WITH destroyed AS (UPDATE audit_data_keys SET person_id = NULL, wrapped_key = NULL, destroyed_at = $2 WHERE person_id = $1 RETURNING key_id) SELECT key_id FROM destroyed`,
      [personId, now.toISOString()],
    );
    return rows.length === 0 ? null : { keyId: rows[0].key_id, destroyedAt: now.toISOString() };
  }

  private async wrap(personId: string, key: DataKey): Promise<string> {
    const material = key.key.export();
    try {
      return await this.settings.dataKeyCipher.encrypt(material, wrapContext(personId, key.keyId));
    } finally {
      material.fill(0);
    }
  }

  /** A key that fails to unwrap (KEK removed too early, row tampered with) reads as unknown, never throws. */
  private async unwrap(row: KeyRow): Promise<DataKey | null> {
    if (row.person_id === null || row.wrapped_key === null) return null;
    let material: Buffer;
    try {
      material = await this.settings.dataKeyCipher.decrypt(row.wrapped_key, wrapContext(row.person_id, row.key_id));
    } catch {
      return null;
    }
    try {
      return dataKeyFromBytes(row.key_id, material);
    } finally {
      material.fill(0);
    }
  }
}
