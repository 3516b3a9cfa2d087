import { AsyncLocalStorage } from 'node:async_hooks';
import { uuidv7 } from '@tessera/util';

/**
 * The correlation id of the request or message being handled, carried through async calls so that
 * every log line and every event it causes names it without passing it by hand.
 */
export interface RequestContext {
  readonly correlationId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const CORRELATION_HEADER = 'x-correlation-id';
/** Accept a caller's id only if it is short and plain, so it cannot inject into logs. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's correlation id when it is acceptable, else a new one. */
export function acceptCorrelationId(candidate: string | undefined | null): string {
  return candidate && ACCEPTABLE_ID.test(candidate) ? candidate : uuidv7();
}

export function runWithCorrelation<T>(correlationId: string, fn: () => T): T {
  return storage.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}
