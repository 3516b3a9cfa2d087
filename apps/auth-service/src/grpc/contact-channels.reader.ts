import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@tessera/event-sourcing';
import { DATA_SOURCE, LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { SecretBox } from '../credentials/secret-box';

export interface ContactChannel {
  readonly kind: 'email' | 'sms';
  readonly address: string;
  readonly credentialId: string;
}

const KIND_OF: Readonly<Record<string, 'email' | 'sms'>> = { email_otp: 'email', sms_otp: 'sms' };

/**
 * The addresses a user confirmed as email/SMS factors, for the security notices of S22 (NIST SP
 * 800-63B-4 §4.1.2.1, §4.6: tell the subscriber of every binding and removal at the addresses of
 * record). Adding an address is its confirmation here: the factor is `active` from the step-up-guarded
 * binding on; a revoked one is no longer the user's (and its sealed address is destroyed with it, S23).
 *
 * The destinations are stored sealed (S28); they are opened one by one, and an address that fails to
 * open is left out (SecretBox logs it as a security event) rather than failing every notice of the user.
 */
@Injectable()
export class ContactChannelsReader {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async list(userId: string): Promise<readonly ContactChannel[]> {
    const rows: { credential_id: string; channel: string; destination_ciphertext: string }[] = await this.dataSource.query(
      `SELECT o.credential_id, o.channel, o.destination_ciphertext
         FROM oob_channels o JOIN credentials c ON c.credential_id = o.credential_id AND c.user_id = o.user_id
        WHERE o.user_id = $1 AND c.status = 'active'
        ORDER BY c.created_at, o.credential_id`,
      [userId],
    );
    const channels: ContactChannel[] = [];
    for (const row of rows) {
      const kind = KIND_OF[row.channel];
      if (!kind) continue;
      try {
        const address = await this.box.open(row.destination_ciphertext, userId, row.credential_id, 'oob-destination');
        channels.push({ kind, address: address.toString('utf8'), credentialId: row.credential_id });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        // SecretBox logged the security event; the other addresses still get the notice.
        this.logger.warn({ credentialId: row.credential_id }, 'a contact channel was left out of the directory');
      }
    }
    return channels;
  }
}
