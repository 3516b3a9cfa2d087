import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { DOMAIN_ERROR_TYPE } from './recovery.activities';

/**
 * Helpers shared by the workflows. Deterministic code only (it runs in Temporal's workflow sandbox).
 */

/** The decider's refusal inside an activity failure, or null for any other failure. */
export function domainRefusal(error: unknown): ApplicationFailure | null {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === DOMAIN_ERROR_TYPE ? cause : null;
}

/** A refusal the caller of an update receives: the decider's code, kind and message, and nothing else. */
export function refusal(code: string, kind: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: DOMAIN_ERROR_TYPE, message, details: [code, kind, message], nonRetryable: true });
}

/** Passes the decider's refusal on to the caller of an update; rethrows anything else. */
export function rethrowAsRefusal(error: unknown): never {
  const refused = domainRefusal(error);
  if (refused) {
    const [code, kind, message] = (refused.details ?? []) as [string, string, string];
    throw refusal(code, kind, message);
  }
  throw error;
}

/**
 * Runs async steps one at a time, in the order they were asked for. Updates, signals and the main
 * loop all reach the decider through one of these, so a cancel handled before a deadline fires is
 * also decided before it (S25: a cancel that arrives before completion always wins).
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
