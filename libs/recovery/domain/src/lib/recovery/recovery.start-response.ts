import { type DomainError } from '@tessera/event-sourcing';

/** What really happened when someone asked, unauthenticated, to start a recovery. */
export type RecoveryStartOutcome =
  | { readonly outcome: 'started'; readonly recoveryId: string }
  | { readonly outcome: 'refused'; readonly error: DomainError }
  | { readonly outcome: 'unknown-account' };

export interface PublicRecoveryStartResponse {
  readonly httpStatus: 202;
  readonly body: { readonly status: 'received'; readonly message: string };
}

const RECEIVED: PublicRecoveryStartResponse = Object.freeze({
  httpStatus: 202,
  body: Object.freeze({
    status: 'received',
    message: 'If an account matches, its owner has been notified on every registered channel with the next steps.',
  }),
});

/**
 * S27: the self-service start answers the same whether the account exists, is frozen, already has a recovery under way, or was
 * refused. The recovery id goes to the subject through their own channels, never to the requester.
 * Helpdesk and security staff, who are authenticated, see the real outcome through their own API.
 * Similar timing is the adapter's half of S27: it does the same work for an unknown account.
 */
export function publicRecoveryStartResponse(outcome: RecoveryStartOutcome): PublicRecoveryStartResponse {
  void outcome;
  return RECEIVED;
}
