import { Inject, Injectable } from '@nestjs/common';
import { type AuthMethods, type IssuedOutOfBandCode, type OutOfBandChannel } from '@tessera/auth-domain';
import { fromJson, GATE, type JoinableRead } from '@tessera/event-store';
import { z } from 'zod';
import { AUTH_METHODS } from '../../common/tokens';
import { factorIdSchema } from '../../common/schemas';
import type { AttemptInput, MethodVerifier, PreparedAttempt } from '../method-verifier';

export const outOfBandProofSchema = z.object({ code: z.string().min(1).max(32), credentialId: factorIdSchema.optional() }).strict();

interface CodeRow {
  code_id: string;
  credential_id: string;
  channel: OutOfBandChannel;
  digits: number;
  salt: Buffer;
  mac: Buffer;
  issued_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
}

/**
 * Email and SMS codes (restricted factors, S7): the newest code sent to the user's channel is checked;
 * it expires (SMS ≤ 10 min, email ≤ 24 h) and is consumed by a conditional UPDATE in the statement that
 * appends the success, so it is single use.
 */
abstract class OutOfBandVerifier implements MethodVerifier<CodeRow | undefined> {
  abstract readonly method: OutOfBandChannel;
  abstract readonly kind: OutOfBandChannel;
  readonly proofSchema = outOfBandProofSchema;

  constructor(private readonly methods: AuthMethods) {}

  read({ userId, proof }: AttemptInput): JoinableRead<CodeRow | undefined> {
    const { credentialId } = proof as z.infer<typeof outOfBandProofSchema>;
    return {
      sql: `SELECT code_id, credential_id, channel, digits, salt, mac, issued_at, expires_at, consumed_at
              FROM oob_codes WHERE user_id = $1 AND channel = $2 AND ($3::uuid IS NULL OR credential_id = $3::uuid)
             ORDER BY issued_at DESC LIMIT 1`,
      params: [userId, this.kind, credentialId ?? null],
      decode: ([row]) =>
        row === undefined
          ? undefined
          : {
              code_id: row.code_id as string,
              credential_id: row.credential_id as string,
              channel: row.channel as OutOfBandChannel,
              digits: row.digits as number,
              salt: fromJson.bytes(row.salt),
              mac: fromJson.bytes(row.mac),
              issued_at: fromJson.date(row.issued_at),
              expires_at: fromJson.date(row.expires_at),
              consumed_at: row.consumed_at === null ? null : fromJson.date(row.consumed_at),
            },
    };
  }

  async check(row: CodeRow | undefined, { proof, now }: AttemptInput): Promise<PreparedAttempt> {
    const { code } = proof as z.infer<typeof outOfBandProofSchema>;
    if (row === undefined) return { credentialId: null, evidence: { kind: this.kind, outcome: 'no_match' } };
    const record: IssuedOutOfBandCode = {
      channel: row.channel,
      digits: row.digits,
      salt: row.salt,
      mac: row.mac,
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at,
    };
    const { evidence } = await this.methods[this.kind].verify(record, { code }, now);
    if (evidence.outcome !== 'match') return { credentialId: row.credential_id, evidence };
    return {
      credentialId: row.credential_id,
      evidence,
      onSuccess: [{ sql: `UPDATE oob_codes SET consumed_at = $2 WHERE code_id = $1 AND consumed_at IS NULL AND ${GATE}`, params: [row.code_id, now], guard: true }],
    };
  }
}

@Injectable()
export class EmailOtpVerifier extends OutOfBandVerifier {
  readonly method = 'email_otp' as const;
  readonly kind = 'email_otp' as const;
  constructor(@Inject(AUTH_METHODS) methods: AuthMethods) {
    super(methods);
  }
}

@Injectable()
export class SmsOtpVerifier extends OutOfBandVerifier {
  readonly method = 'sms_otp' as const;
  readonly kind = 'sms_otp' as const;
  constructor(@Inject(AUTH_METHODS) methods: AuthMethods) {
    super(methods);
  }
}
