import { Inject, Injectable } from '@nestjs/common';
import {
  assertTotpParameters,
  assertTotpSecretLength,
  type BindingAuthorization,
  buildOtpauthUri,
  decodeBase32Secret,
  encodeBase32Secret,
  generateTotpSecret,
  nodeRandomSource,
  parseOtpauthUri,
  TOTP_DEFAULTS,
  type TotpParameters,
  verifyTotpCode,
} from '@tessera/auth-domain';
import { type Actor, type TotpAlgorithm } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { CONFIG, DATA_SOURCE } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import QRCode from 'qrcode';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { changedRows } from '../../common/sql';
import type { AuthServiceConfig } from '../../config/auth-config';
import { AccountService } from '../../credentials/account.service';
import { SecretBox } from '../../credentials/secret-box';
import { factorNameSchema } from '../../common/schemas';

export const enrollTotpSchema = z
  .object({
    name: factorNameSchema.default('Authenticator app'),
    /** The label's account part in the authenticator app; defaults to the user id. */
    accountName: z.string().trim().min(1).max(200).optional(),
    /** Import an existing seed: an otpauth:// URI (with its algorithm, digits and period) … */
    otpauthUri: z.string().min(1).max(2048).optional(),
    /** … or a base32 secret (RFC 4648) with its parameters. */
    secret: z.string().min(1).max(256).optional(),
    algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']).optional(),
    digits: z.number().int().optional(),
    period: z.number().int().optional(),
  })
  .strict()
  .refine((body) => !(body.otpauthUri && (body.secret || body.algorithm || body.digits || body.period)), {
    message: 'give either otpauthUri or secret/algorithm/digits/period, not both',
  });
export type EnrollTotpBody = z.infer<typeof enrollTotpSchema>;

export const confirmTotpSchema = z.object({ code: z.string().min(1).max(32) }).strict();

export interface TotpEnrollment {
  readonly factorId: string;
  readonly status: 'pending';
  readonly source: 'generated' | 'imported';
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  readonly period: number;
  /** Generated seeds only: shown this once, never retrievable again. */
  readonly otpauthUri?: string;
  readonly secret?: string;
  readonly qrCode?: { readonly svg: string; readonly png: string };
}

@Injectable()
export class TotpService {
  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: AuthServiceConfig,
  ) {}

  /** Enrols a seed in the pending state: it becomes a factor only once a code from it is confirmed. */
  async enroll(userId: string, body: EnrollTotpBody, authorization: BindingAuthorization, actor: Actor, now: Date): Promise<TotpEnrollment> {
    const credentialId = uuidv7(now.getTime());
    const accountName = body.accountName ?? userId;
    let secret: Uint8Array;
    let params: TotpParameters;
    let source: 'generated' | 'imported';
    if (body.otpauthUri !== undefined) {
      const key = parseOtpauthUri(body.otpauthUri);
      ({ secret } = key);
      params = { algorithm: key.algorithm, digits: key.digits, period: key.period };
      source = 'imported';
    } else {
      params = { algorithm: body.algorithm ?? TOTP_DEFAULTS.algorithm, digits: body.digits ?? TOTP_DEFAULTS.digits, period: body.period ?? TOTP_DEFAULTS.period };
      assertTotpParameters(params);
      if (body.secret !== undefined) {
        secret = decodeBase32Secret(body.secret);
        source = 'imported';
      } else {
        // S4: ≥ 160 bits from the CSPRNG (RFC 4226 §4 R6).
        secret = generateTotpSecret(nodeRandomSource, params.algorithm);
        source = 'generated';
      }
    }
    assertTotpSecretLength(secret);
    const ciphertext = await this.box.seal(Buffer.from(secret), userId, credentialId, 'totp-seed');
    const otpauthUri = source === 'generated' ? buildOtpauthUri({ issuer: this.config.AUTH_TOTP_ISSUER, accountName, secret, ...params }) : undefined;

    await this.accounts.execute(
      { type: 'EnrollTotp', userId, now, credentialId, name: body.name, ...params, source, authorization },
      actor,
      async (manager) => {
        await manager.query(
          `INSERT INTO totp_seeds (credential_id, user_id, seed_ciphertext, algorithm, digits, period) VALUES ($1, $2, $3, $4, $5, $6)`,
          [credentialId, userId, ciphertext, params.algorithm, params.digits, params.period],
        );
      },
    );
    const enrollment: TotpEnrollment = { factorId: credentialId, status: 'pending', source, ...params };
    if (otpauthUri === undefined) return enrollment;
    const [svg, png] = await Promise.all([
      QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
      QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2 }),
    ]);
    return { ...enrollment, otpauthUri, secret: encodeBase32Secret(secret), qrCode: { svg, png } };
  }

  /** The first code from the app proves the seed arrived; its time step is spent at once (S1). */
  async confirm(userId: string, factorId: string, code: string, actor: Actor, now: Date): Promise<{ factorId: string; status: 'active' }> {
    const [row]: { seed_ciphertext: string; algorithm: TotpAlgorithm; digits: number; period: number; confirmed: boolean }[] = await this.dataSource.query(
      `SELECT seed_ciphertext, algorithm, digits, period, confirmed FROM totp_seeds WHERE credential_id = $1 AND user_id = $2`,
      [factorId, userId],
    );
    if (row === undefined) throw new DomainError('credential_not_found', 'no such TOTP factor for this user', 'not_found');
    const secret = await this.box.open(row.seed_ciphertext, userId, factorId, 'totp-seed');
    const evidence = verifyTotpCode({ secret, algorithm: row.algorithm, digits: row.digits, period: row.period }, code, now);
    secret.fill(0);
    await this.accounts.execute({ type: 'ConfirmTotp', userId, now, credentialId: factorId, evidence }, actor, async (manager) => {
      if (evidence.outcome !== 'match') return;
      const changed = await changedRows(manager, `UPDATE totp_seeds SET confirmed = true, last_step = $2 WHERE credential_id = $1 AND NOT confirmed`, [
        factorId,
        evidence.timeStep,
      ]);
      if (changed !== 1) throw new DomainError('already_confirmed', 'this TOTP credential is already confirmed');
    });
    return { factorId, status: 'active' };
  }
}
