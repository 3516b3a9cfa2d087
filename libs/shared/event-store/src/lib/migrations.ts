import { IdempotencySchema1732752100000 } from './idempotency/idempotency.migration';
import { EventStoreSchema1732752000000 } from './schema.migration';
import { StreamSnapshots1732752200000 } from './snapshot.migration';

/** The backbone's tables, first in every service's migration list. */
export const EVENT_STORE_MIGRATIONS = [EventStoreSchema1732752000000, IdempotencySchema1732752100000, StreamSnapshots1732752200000] as const;
