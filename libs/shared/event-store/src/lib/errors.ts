import { DomainError } from '@tessera/event-sourcing';

/**
 * Another writer appended to the stream first (R5). The command handler retries a bounded number of
 * times; if the stream stays contended the caller gets a 409 `concurrent_modification`, never a lost update.
 */
export class ConcurrencyError extends DomainError {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super('concurrent_modification', `The resource was changed by another request; retry the request.`, 'conflict');
    this.name = 'ConcurrencyError';
  }
}
