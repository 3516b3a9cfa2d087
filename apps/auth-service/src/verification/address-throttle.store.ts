import { Inject, Injectable } from '@nestjs/common';
import { type AddressThrottle, THROTTLE_POLICY } from '@tessera/auth-domain';
import { GATE, queryPrepared, type StatementWrite } from '@tessera/event-store';
import { DATA_SOURCE } from '@tessera/platform';
import type { DataSource } from 'typeorm';

/**
 * S9: failures per client address in a sliding window, kept in PostgreSQL so that the limit holds across
 * restarts and every instance. The rule itself is auth-domain's `assessAddressAttempt`.
 */
@Injectable()
export class AddressThrottleStore {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async load(address: string, now: Date): Promise<AddressThrottle> {
    const rows = await queryPrepared<{ failed_at: Date }>(
      this.dataSource,
      `SELECT failed_at FROM address_failures WHERE address = $1 AND failed_at > $2 ORDER BY failed_at`,
      [address, new Date(now.getTime() - THROTTLE_POLICY.address.windowMs)],
    );
    return { failures: rows.map((row) => row.failed_at.getTime()) };
  }

  /**
   * Records a failure with the VerificationFailed event, in the append's own statement; the address's
   * rows past the window are swept as it goes.
   */
  failureWrites(address: string, now: Date): StatementWrite[] {
    return [
      { sql: `DELETE FROM address_failures WHERE address = $1 AND failed_at <= $2 AND ${GATE}`, params: [address, new Date(now.getTime() - THROTTLE_POLICY.address.windowMs)] },
      { sql: `INSERT INTO address_failures (address, failed_at) SELECT $1, $2 WHERE ${GATE}`, params: [address, now] },
    ];
  }
}
