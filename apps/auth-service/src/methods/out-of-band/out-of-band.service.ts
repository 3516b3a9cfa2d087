import { Inject, Injectable } from '@nestjs/common';
import {
  assertRestrictedFactorAllowed,
  type BindingAuthorization,
  issueOutOfBandCode,
  nodeRandomSource,
  OUT_OF_BAND_TTL,
  type OutOfBandChannel,
  type RestrictedFactorPolicy,
} from '@tessera/auth-domain';
import type { Actor } from '@tessera/contracts';
import { DomainError } from '@tessera/event-sourcing';
import { CONFIG, DATA_SOURCE } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { DataSource } from 'typeorm';
import { AUTH_KEYS } from '../../common/tokens';
import type { AuthServiceConfig } from '../../config/auth-config';
import type { AuthKeys } from '../../config/auth-keys';
import { AccountService } from '../../credentials/account.service';
import { SecretBox } from '../../credentials/secret-box';
import { CodeDelivery, type DeliveryChannel } from './code-delivery';

/** Codes sent per channel in a window: bounds what one caller can make the gateway send (SMS pumping). */
const SEND_LIMIT = { max: 5, windowMs: 15 * 60_000 };

const DELIVERY: Record<OutOfBandChannel, DeliveryChannel> = { email_otp: 'email', sms_otp: 'sms' };

@Injectable()
export class OutOfBandService {
  readonly policy: RestrictedFactorPolicy;

  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(CodeDelivery) private readonly delivery: CodeDelivery,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AUTH_KEYS) private readonly keys: AuthKeys,
    @Inject(CONFIG) config: AuthServiceConfig,
  ) {
    this.policy = { allowEmailOtp: config.AUTH_ALLOW_EMAIL_OTP, allowSmsOtp: config.AUTH_ALLOW_SMS_OTP };
  }

  /** Adds an email address or phone number as a restricted factor (S7); only a masked hint enters the event. */
  async addChannel(userId: string, channel: OutOfBandChannel, destination: string, authorization: BindingAuthorization, actor: Actor, now: Date) {
    assertRestrictedFactorAllowed(this.policy, channel);
    if (!this.delivery.available(DELIVERY[channel])) throw new DomainError('delivery_unavailable', `no ${DELIVERY[channel]} delivery is configured`, 'invalid');
    const credentialId = uuidv7(now.getTime());
    const ciphertext = await this.box.seal(Buffer.from(destination, 'utf8'), userId, credentialId, 'oob-destination');
    const { events } = await this.accounts.execute(
      { type: 'AddOutOfBandChannel', userId, now, channel, credentialId, destination, policy: this.policy, authorization },
      actor,
      async (manager) => {
        await manager.query(`INSERT INTO oob_channels (credential_id, user_id, channel, destination_ciphertext) VALUES ($1, $2, $3, $4)`, [
          credentialId,
          userId,
          channel,
          ciphertext,
        ]);
      },
    );
    const hint = (events[0]?.data as { destinationHint?: string }).destinationHint;
    return { factorId: credentialId, kind: channel, destinationHint: hint, status: 'active' as const };
  }

  /** Sends a fresh code to a channel of the user; the newest code is the only one that verifies. */
  async sendCode(userId: string, channel: OutOfBandChannel, credentialId: string | undefined, now: Date) {
    assertRestrictedFactorAllowed(this.policy, channel);
    const [target]: { credential_id: string; destination_ciphertext: string }[] = await this.dataSource.query(
      `SELECT o.credential_id, o.destination_ciphertext FROM oob_channels o JOIN credentials c ON c.credential_id = o.credential_id
        WHERE o.user_id = $1 AND o.channel = $2 AND c.status = 'active' AND ($3::uuid IS NULL OR o.credential_id = $3::uuid)
        ORDER BY c.created_at LIMIT 1`,
      [userId, channel, credentialId ?? null],
    );
    if (target === undefined) throw new DomainError('credential_not_found', `the user has no ${channel} channel`, 'not_found');
    const [{ sent }]: { sent: string }[] = await this.dataSource.query(
      `SELECT count(*) AS sent FROM oob_codes WHERE credential_id = $1 AND issued_at > $2`,
      [target.credential_id, new Date(now.getTime() - SEND_LIMIT.windowMs)],
    );
    if (Number(sent) >= SEND_LIMIT.max) throw new DomainError('too_many_codes', 'too many codes were sent to this channel recently', 'throttled');
    const { code, record } = issueOutOfBandCode({ channel, policy: this.policy, now }, { random: nodeRandomSource, pepper: this.keys.otpPepper });
    const codeId = uuidv7(now.getTime());
    await this.dataSource.query(
      `INSERT INTO oob_codes (code_id, credential_id, user_id, channel, digits, salt, mac, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [codeId, target.credential_id, userId, channel, record.digits, Buffer.from(record.salt), Buffer.from(record.mac), record.issuedAt, record.expiresAt],
    );
    const destination = await this.box.open(target.destination_ciphertext, userId, target.credential_id, 'oob-destination');
    const minutes = Math.round(OUT_OF_BAND_TTL[channel].defaultMs / 60_000);
    await this.delivery.sendCode(DELIVERY[channel], destination.toString('utf8'), code, minutes, 'sign-in', `auth-code-${codeId}`);
    return { credentialId: target.credential_id, codeId, expiresAt: record.expiresAt.toISOString() };
  }
}
