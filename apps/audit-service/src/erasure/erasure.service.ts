import { Inject, Injectable } from '@nestjs/common';
import { DATA_SOURCE, type Principal } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import type { DataSource } from 'typeorm';
import { CLOCK } from '../audit.tokens';
import { ChainAppender } from '../chain/chain-appender.service';
import { auditServiceEvent, staffActor } from '../common/audit-service-event';
import type { ErasureBody } from '../common/query-schemas';
import { DataKeyStore } from '../data-keys/data-key.store';

/** Deliberately without the user id: the answer is kept for idempotent replays, the id must not be. */
export interface ErasureResult {
  /** False when the log held no personal data of this person (nothing to erase). */
  readonly erased: boolean;
  /** The pseudonym their records carry, now linked to no one. */
  readonly subjectRef: string | null;
  readonly destroyedAt: string | null;
  /** The position of the record of this erasure in the log. */
  readonly recordedAt: number;
}

/**
 * Erasure by crypto-shredding (issue 7.4; libs/audit/domain ERASURE.md; ADR 0009): the person's data
 * key is destroyed and their id leaves the key store, in one transaction with a record of the erasure
 * (by the pseudonym, the administrator and the ticket: never the erased id). Records, hashes and
 * checkpoints are untouched, so verification stays green, and every sealed field reads
 * `{ "erased": true }` from then on.
 */
@Injectable()
export class ErasureService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(DataKeyStore) private readonly dataKeys: DataKeyStore,
    @Inject(ChainAppender) private readonly appender: ChainAppender,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async erase(body: ErasureBody, principal: Principal): Promise<ErasureResult> {
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      const destroyed = await this.dataKeys.destroy(manager, body.userId, now);
      const event = auditServiceEvent(
        'AuditSubjectErased',
        staffActor(principal),
        { erasedSubjectRef: destroyed?.keyId ?? null, ticket: body.ticket, ...(body.reason === undefined ? {} : { reason: body.reason }) },
        now,
      );
      const { records } = await this.appender.append(manager, [event]);
      return { erased: destroyed !== null, subjectRef: destroyed?.keyId ?? null, destroyedAt: destroyed?.destroyedAt ?? null, recordedAt: records[0].position };
    });
  }
}
