import { Inject, Injectable } from '@nestjs/common';
import { methodDescriptor, type RevocationAuthorization } from '@tessera/auth-domain';
import { AUTH_FACTOR_KINDS, type AuthFactorKind } from '@tessera/contracts';
import type { Actor } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { DATA_SOURCE } from '@tessera/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { AccountService } from '../credentials/account.service';

export interface FactorView {
  readonly factorId: string;
  readonly kind: string;
  readonly name: string | null;
  readonly status: 'pending' | 'active' | 'revoked';
  /** S7: a NIST SP 800-63B-4 restricted authenticator (email and SMS codes), which a policy may forbid. */
  readonly restricted: boolean;
  readonly details: Record<string, unknown>;
  readonly remainingCodes: number | null;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

interface CatalogRow {
  credential_id: string;
  kind: string;
  name: string | null;
  status: FactorView['status'];
  details: Record<string, unknown>;
  remaining_codes: number | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** The material of a revoked credential is destroyed with its revocation, in the same transaction (S23). */
export async function destroyMaterial(manager: EntityManager, credentialId: string): Promise<void> {
  for (const table of ['totp_seeds', 'webauthn_keys', 'backup_codes', 'oob_channels', 'oob_codes']) {
    await manager.query(`DELETE FROM ${table} WHERE credential_id = $1`, [credentialId]);
  }
}

@Injectable()
export class FactorsService {
  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  async list(userId: string, includeRevoked = false): Promise<{ factors: FactorView[]; frozen: boolean }> {
    const rows: CatalogRow[] = await this.dataSource.query(
      `SELECT credential_id, kind, name, status, details, remaining_codes, created_at, last_used_at, revoked_at
         FROM credentials WHERE user_id = $1 AND ($2 OR status <> 'revoked') ORDER BY created_at, credential_id`,
      [userId, includeRevoked],
    );
    const account = await this.accounts.load(userId);
    return {
      frozen: account.status === 'frozen',
      factors: rows.map((row) => ({
        factorId: row.credential_id,
        kind: row.kind,
        name: row.name,
        status: row.status,
        restricted: (AUTH_FACTOR_KINDS as readonly string[]).includes(row.kind) && methodDescriptor(row.kind as AuthFactorKind).restricted,
        details: row.details,
        remainingCodes: row.remaining_codes,
        createdAt: row.created_at.toISOString(),
        lastUsedAt: row.last_used_at?.toISOString() ?? null,
        revokedAt: row.revoked_at?.toISOString() ?? null,
      })),
    };
  }

  /**
   * S23: when this returns, the credential's material is gone and the decider no longer knows it, so
   * it already fails verification. S24 (last factor) is the decider's rule.
   */
  async revoke(userId: string, credentialId: string, authorization: RevocationAuthorization, actor: Actor, now: Date): Promise<{ factorId: string; alreadyRevoked: boolean }> {
    const [row]: { status: string }[] = await this.dataSource.query(`SELECT status FROM credentials WHERE credential_id = $1 AND user_id = $2`, [credentialId, userId]);
    if (row === undefined) throw new DomainError('credential_not_found', 'no such factor for this user', 'not_found');
    if (row.status === 'revoked') return { factorId: credentialId, alreadyRevoked: true };
    await this.accounts.execute({ type: 'RevokeCredential', userId, now, credentialId, authorization }, actor, (manager) => destroyMaterial(manager, credentialId));
    return { factorId: credentialId, alreadyRevoked: false };
  }
}
