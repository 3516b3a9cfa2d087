import { Inject, Injectable } from '@nestjs/common';
import { type AddressThrottle, THROTTLE_POLICY } from '@tessera/auth-domain';
import { fromJson, GATE, type JoinableRead, PostgresEventStore, type StatementWrite } from '@tessera/event-store';

/**
 * S9: failures per client address in a sliding window, kept in PostgreSQL so that the limit holds across
 * restarts and every instance. The rule itself is auth-domain's `assessAddressAttempt`.
 */
@Injectable()
export class AddressThrottleStore {
  constructor(@Inject(PostgresEventStore) private readonly store: PostgresEventStore) {}

  async load(address: string, now: Date): Promise<AddressThrottle> {
    const [throttle] = await this.store.readTogether([this.read(address, now)]);
    return throttle;
  }

  /** The address's failures inside the window, as a read that can share a statement (see readTogether). */
  read(address: string, now: Date): JoinableRead<AddressThrottle> {
    return {
      sql: `SELECT failed_at FROM address_failures WHERE address = $1 AND failed_at > $2`,
      params: [address, new Date(now.getTime() - THROTTLE_POLICY.address.windowMs)],
      orderBy: 'failed_at',
      decode: (rows) => ({ failures: rows.map((row) => fromJson.date(row.failed_at).getTime()) }),
    };
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
