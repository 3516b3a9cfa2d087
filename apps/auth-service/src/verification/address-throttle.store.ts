import { Inject, Injectable } from '@nestjs/common';
import { type AddressThrottle, THROTTLE_POLICY } from '@tessera/auth-domain';
import { DATA_SOURCE } from '@tessera/platform';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * S9: failures per client address in a sliding window, kept in PostgreSQL so that the limit holds across
 * restarts and every instance. The rule itself is auth-domain's `assessAddressAttempt`.
 */
@Injectable()
export class AddressThrottleStore {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async load(address: string, now: Date): Promise<AddressThrottle> {
    const rows: { failed_at: Date }[] = await this.dataSource.query(
      `SELECT failed_at FROM address_failures WHERE address = $1 AND failed_at > $2 ORDER BY failed_at`,
      [address, new Date(now.getTime() - THROTTLE_POLICY.address.windowMs)],
    );
    return { failures: rows.map((row) => row.failed_at.getTime()) };
  }

  /** In the transaction of the VerificationFailed event; rows past the window are swept as it goes. */
  async recordFailure(manager: EntityManager, address: string, now: Date): Promise<void> {
    await manager.query(`DELETE FROM address_failures WHERE address = $1 AND failed_at <= $2`, [address, new Date(now.getTime() - THROTTLE_POLICY.address.windowMs)]);
    await manager.query(`INSERT INTO address_failures (address, failed_at) VALUES ($1, $2)`, [address, now]);
  }
}
