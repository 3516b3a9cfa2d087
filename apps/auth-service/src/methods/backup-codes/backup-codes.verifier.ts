import { Inject, Injectable } from '@nestjs/common';
import { type AuthMethods, type BackupCodeRow, parseBackupCode, type ScryptParameters } from '@tessera/auth-domain';
import { fromJson, GATE, type JoinableRead } from '@tessera/event-store';
import { z } from 'zod';
import { AuthMetrics } from '../../common/auth-metrics';
import { AUTH_METHODS } from '../../common/tokens';
import type { AttemptInput, MethodVerifier, PreparedAttempt } from '../method-verifier';

export const backupCodeProofSchema = z.object({ code: z.string().min(1).max(64) }).strict();

interface CodeRow {
  credential_id: string;
  salt: Buffer;
  hash: Buffer;
  kdf: ScryptParameters;
  used_at: Date | null;
}

/**
 * Backup codes (S10–S13): the code's non-secret 4-character index names its row among the user's current
 * set (older sets are deleted when regenerated), so an attempt costs exactly one KDF (S11). A match is
 * consumed by a conditional UPDATE (`used_at IS NULL`) in the statement that appends the success: one
 * success under concurrency (S12).
 */
@Injectable()
export class BackupCodeVerifier implements MethodVerifier<CodeRow | undefined> {
  readonly method = 'backup_code' as const;
  readonly kind = 'backup_codes' as const;
  readonly proofSchema = backupCodeProofSchema;

  constructor(
    @Inject(AUTH_METHODS) private readonly methods: AuthMethods,
    @Inject(AuthMetrics) private readonly metrics: AuthMetrics,
  ) {}

  read({ userId, proof }: AttemptInput): JoinableRead<CodeRow | undefined> {
    const parsed = parseBackupCode((proof as z.infer<typeof backupCodeProofSchema>).code);
    return {
      // A malformed code has no index: NULL matches no row.
      sql: `SELECT credential_id, salt, hash, kdf, used_at FROM backup_codes WHERE user_id = $1 AND code_index = $2`,
      params: [userId, parsed?.index ?? null],
      decode: ([row]) =>
        row === undefined
          ? undefined
          : {
              credential_id: row.credential_id as string,
              salt: fromJson.bytes(row.salt),
              hash: fromJson.bytes(row.hash),
              kdf: row.kdf as ScryptParameters,
              used_at: row.used_at === null ? null : fromJson.date(row.used_at),
            },
    };
  }

  async check(stored: CodeRow | undefined, { proof, now }: AttemptInput): Promise<PreparedAttempt> {
    const { code } = proof as z.infer<typeof backupCodeProofSchema>;
    const parsed = parseBackupCode(code);
    if (parsed !== null) this.metrics.backupCodeAttempts.inc();
    const row: BackupCodeRow | undefined =
      stored && parsed ? { index: parsed.index, salt: stored.salt, hash: stored.hash, kdf: stored.kdf, usedAt: stored.used_at } : undefined;
    const { evidence } = await this.methods.backup_codes.verify(row, { code }, now);
    if (evidence.outcome !== 'match' || stored === undefined || parsed === null) {
      return { credentialId: evidence.outcome === 'already_used' ? (stored?.credential_id ?? null) : null, evidence };
    }
    return {
      credentialId: stored.credential_id,
      evidence,
      onSuccess: [
        {
          sql: `UPDATE backup_codes SET used_at = $3 WHERE credential_id = $1 AND code_index = $2 AND used_at IS NULL AND ${GATE}`,
          params: [stored.credential_id, parsed.index, now],
          guard: true,
        },
      ],
    };
  }
}
