import { Inject, Injectable } from '@nestjs/common';
import { type AuthMethods, type TotpEvidence } from '@tessera/auth-domain';
import { type TotpAlgorithm } from '@tessera/contracts';
import { GATE, type JoinableRead } from '@tessera/event-store';
import { z } from 'zod';
import { AUTH_METHODS } from '../../common/tokens';
import { SecretBox } from '../../credentials/secret-box';
import type { AttemptInput, MethodVerifier, PreparedAttempt } from '../method-verifier';

export const totpProofSchema = z.object({ code: z.string().min(1).max(32) }).strict();

interface SeedRow {
  credential_id: string;
  seed_ciphertext: string;
  algorithm: TotpAlgorithm;
  digits: number;
  period: number;
  last_step: number | null;
}

/**
 * TOTP (RFC 6238): the code is tried against each confirmed seed of the user at server time, within the
 * documented ±1 step window (S3, `TOTP_WINDOW`). A match commits by advancing `last_step` with an atomic
 * conditional UPDATE in the statement that appends the success, so of parallel submissions of one code
 * exactly one succeeds (S1).
 */
@Injectable()
export class TotpVerifier implements MethodVerifier<SeedRow[]> {
  readonly method = 'totp' as const;
  readonly kind = 'totp' as const;
  readonly proofSchema = totpProofSchema;

  constructor(
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(AUTH_METHODS) private readonly methods: AuthMethods,
  ) {}

  read({ userId }: AttemptInput): JoinableRead<SeedRow[]> {
    return {
      sql: `SELECT credential_id, seed_ciphertext, algorithm, digits, period, last_step FROM totp_seeds WHERE user_id = $1 AND confirmed`,
      params: [userId],
      orderBy: 'credential_id',
      decode: (rows) => rows as unknown as SeedRow[],
    };
  }

  async check(rows: SeedRow[], { userId, proof, now }: AttemptInput): Promise<PreparedAttempt> {
    const { code } = proof as z.infer<typeof totpProofSchema>;
    let replayed: PreparedAttempt | undefined;
    let wellFormed = false;
    for (const row of rows) {
      const secret = await this.box.open(row.seed_ciphertext, userId, row.credential_id, 'totp-seed');
      try {
        const seed = { secret, algorithm: row.algorithm, digits: row.digits, period: row.period };
        const lastAcceptedStep = row.last_step;
        const { evidence, commit } = await this.methods.totp.verify({ seed, lastAcceptedStep }, { code }, now);
        if (evidence.outcome !== 'malformed') wellFormed = true;
        if (evidence.outcome === 'match' && commit?.kind === 'advance_time_step') {
          return {
            credentialId: row.credential_id,
            evidence,
            onSuccess: [
              {
                sql: `UPDATE totp_seeds SET last_step = $2 WHERE credential_id = $1 AND confirmed AND (last_step IS NULL OR last_step < $2) AND ${GATE}`,
                params: [row.credential_id, commit.to],
                guard: true,
              },
            ],
          };
        }
        if (evidence.outcome === 'replayed') replayed ??= { credentialId: row.credential_id, evidence };
      } finally {
        secret.fill(0);
      }
    }
    const evidence: TotpEvidence = { kind: 'totp', outcome: wellFormed || rows.length === 0 ? 'no_match' : 'malformed' };
    return replayed ?? { credentialId: null, evidence };
  }
}
