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

/**
 * A guard write of the append (an atomic conditional update such as "advance the last accepted TOTP
 * step", S1) changed no row: another request consumed what it guards first. Nothing was stored; the
 * caller decides what the lost race means (e.g. check the proof again, now as a replay).
 */
export class AppendGuardFailed extends DomainError {
  constructor(readonly streamId: string) {
    super('concurrent_modification', 'A concurrent request used this first; retry the request.', 'conflict');
    this.name = 'AppendGuardFailed';
  }
}
