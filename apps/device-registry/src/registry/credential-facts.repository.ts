import { Inject, Injectable } from '@nestjs/common';
import { type AuthFactorKind } from '@tessera/contracts';
import { type CredentialFact } from '@tessera/device-domain';
import { DATA_SOURCE } from '@tessera/platform';
import type { DataSource, EntityManager } from 'typeorm';

interface FactRow {
  credential_id: string;
  user_id: string;
  kind: AuthFactorKind;
  status: CredentialFact['status'];
  name: string | null;
  aaguid: string | null;
  device_bound: boolean | null;
  remaining_codes: number | null;
  created_at: Date;
}

export interface StoredCredentialFact extends CredentialFact {
  readonly userId: string;
}

/**
 * What auth-service's events said about each credential (credential_facts). Every write names the
 * user and only touches a row of that user: an event claiming another user's credential changes
 * nothing.
 */
@Injectable()
export class CredentialFactsRepository {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Records a credential the first time it is seen; later sightings update what they carry. */
  async upsert(
    manager: EntityManager,
    fact: Omit<StoredCredentialFact, 'createdAt'> & { readonly at: string },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO credential_facts (credential_id, user_id, kind, status, name, aaguid, device_bound, remaining_codes, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
       ON CONFLICT (credential_id) DO UPDATE
          -- Status only moves forward (pending → active → revoked), whatever order redeliveries come in.
          SET status = CASE WHEN credential_facts.status = 'revoked' OR (credential_facts.status = 'active' AND EXCLUDED.status = 'pending')
                            THEN credential_facts.status ELSE EXCLUDED.status END,
              name = coalesce(EXCLUDED.name, credential_facts.name),
              aaguid = coalesce(EXCLUDED.aaguid, credential_facts.aaguid),
              device_bound = coalesce(EXCLUDED.device_bound, credential_facts.device_bound),
              remaining_codes = coalesce(EXCLUDED.remaining_codes, credential_facts.remaining_codes),
              updated_at = EXCLUDED.updated_at
        WHERE credential_facts.user_id = EXCLUDED.user_id AND credential_facts.kind = EXCLUDED.kind`,
      [fact.credentialId, fact.userId, fact.kind, fact.status, fact.name, fact.aaguid, fact.deviceBound, fact.remainingCodes, fact.at],
    );
  }

  async markRevoked(manager: EntityManager, userId: string, credentialId: string, at: string): Promise<void> {
    await manager.query(`UPDATE credential_facts SET status = 'revoked', updated_at = $3 WHERE credential_id = $1 AND user_id = $2`, [
      credentialId,
      userId,
      at,
    ]);
  }

  async setRemainingCodes(manager: EntityManager, userId: string, credentialId: string, remaining: number, at: string): Promise<void> {
    await manager.query(
      `UPDATE credential_facts SET remaining_codes = $3, updated_at = $4 WHERE credential_id = $1 AND user_id = $2 AND kind = 'backup_codes'`,
      [credentialId, userId, remaining, at],
    );
  }

  async recordUse(manager: EntityManager, userId: string, credentialId: string, at: string): Promise<void> {
    await manager.query(
      `UPDATE credential_facts SET last_used_at = GREATEST(coalesce(last_used_at, $3::timestamptz), $3::timestamptz)
        WHERE credential_id = $1 AND user_id = $2`,
      [credentialId, userId, at],
    );
  }

  async listByUser(userId: string, manager: EntityManager = this.dataSource.manager): Promise<StoredCredentialFact[]> {
    const rows: FactRow[] = await manager.query(
      `SELECT credential_id, user_id, kind, status, name, aaguid, device_bound, remaining_codes, created_at
         FROM credential_facts WHERE user_id = $1 ORDER BY created_at, credential_id`,
      [userId],
    );
    return rows.map(toFact);
  }

  async get(credentialId: string, manager: EntityManager = this.dataSource.manager): Promise<StoredCredentialFact | null> {
    const rows: FactRow[] = await manager.query(
      `SELECT credential_id, user_id, kind, status, name, aaguid, device_bound, remaining_codes, created_at
         FROM credential_facts WHERE credential_id = $1`,
      [credentialId],
    );
    return rows.length > 0 ? toFact(rows[0]) : null;
  }
}

function toFact(row: FactRow): StoredCredentialFact {
  return {
    credentialId: row.credential_id,
    userId: row.user_id,
    kind: row.kind,
    status: row.status,
    name: row.name,
    aaguid: row.aaguid,
    deviceBound: row.device_bound,
    remainingCodes: row.remaining_codes,
    createdAt: row.created_at.toISOString(),
  };
}
