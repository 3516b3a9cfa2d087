import { Inject, Injectable } from '@nestjs/common';
import { BACKUP_CODE_POLICY, type BindingAuthorization, generateBackupCodes, nodeRandomSource } from '@tessera/auth-domain';
import type { Actor } from '@tessera/contracts';
import { DATA_SOURCE } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { DataSource } from 'typeorm';
import { AccountService } from '../../credentials/account.service';

export interface BackupCodeSet {
  readonly factorId: string;
  /** Shown once: only salted hashes are kept (S11). */
  readonly codes: readonly string[];
  readonly remaining: number;
  readonly replacedFactorId: string | null;
}

@Injectable()
export class BackupCodesService {
  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /**
   * A new set of 10 codes of 80 secret bits each (S10), replacing the previous set whole: its rows are
   * deleted in the same transaction, so an old code fails from the moment this returns. The decider
   * requires an AAL2 step-up (S14).
   */
  async generate(userId: string, authorization: BindingAuthorization, actor: Actor, now: Date): Promise<BackupCodeSet> {
    const credentialId = uuidv7(now.getTime());
    const { codes, rows } = await generateBackupCodes(nodeRandomSource);
    const { events } = await this.accounts.execute(
      { type: 'GenerateBackupCodes', userId, now, credentialId, count: BACKUP_CODE_POLICY.count, authorization },
      actor,
      async (manager) => {
        await manager.query(`DELETE FROM backup_codes WHERE user_id = $1`, [userId]);
        const values = rows.map((_, i) => `($1, $2, $${3 + i * 4}, $${4 + i * 4}, $${5 + i * 4}, $${6 + i * 4})`);
        await manager.query(
          `INSERT INTO backup_codes (credential_id, user_id, code_index, salt, hash, kdf) VALUES ${values.join(', ')}`,
          [credentialId, userId, ...rows.flatMap((row) => [row.index, Buffer.from(row.salt), Buffer.from(row.hash), JSON.stringify(row.kdf)])],
        );
      },
    );
    const generated = events.find((event) => event.type === 'BackupCodesGenerated');
    const replaced = (generated?.data as { replacedCredentialId?: string | null } | undefined)?.replacedCredentialId ?? null;
    return { factorId: credentialId, codes, remaining: codes.length, replacedFactorId: replaced };
  }

  async status(userId: string): Promise<{ factorId: string | null; total: number; remaining: number; generatedAt: string | null }> {
    const [row]: { credential_id: string; total: string; remaining: string; created_at: Date }[] = await this.dataSource.query(
      `SELECT c.credential_id, c.created_at, count(b.*) AS total, count(b.*) FILTER (WHERE b.used_at IS NULL) AS remaining
         FROM credentials c JOIN backup_codes b ON b.credential_id = c.credential_id
        WHERE c.user_id = $1 AND c.kind = 'backup_codes' AND c.status = 'active'
        GROUP BY c.credential_id, c.created_at`,
      [userId],
    );
    if (row === undefined) return { factorId: null, total: 0, remaining: 0, generatedAt: null };
    return { factorId: row.credential_id, total: Number(row.total), remaining: Number(row.remaining), generatedAt: row.created_at.toISOString() };
  }
}
