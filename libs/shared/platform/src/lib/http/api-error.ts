import { HttpStatus } from '@nestjs/common';
import type { DomainError } from '@tessera/event-sourcing';

/**
 * The one error shape every endpoint answers with (R7): a machine-readable `code`, a readable
 * `message`, optional per-field `details`, and the correlation id; never a stack trace.
 */
export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: readonly { readonly path: string; readonly message: string }[];
  };
  readonly correlationId?: string;
}

/** An error an adapter raises on purpose, with the status and code to answer with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const STATUS_BY_DOMAIN_KIND: Record<DomainError['kind'], number> = {
  conflict: HttpStatus.CONFLICT,
  invalid: HttpStatus.UNPROCESSABLE_ENTITY,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  throttled: HttpStatus.TOO_MANY_REQUESTS,
};

export function statusOfDomainError(error: DomainError): number {
  return STATUS_BY_DOMAIN_KIND[error.kind];
}

/** A default code for statuses that Nest or Express raise without one. */
export function codeForStatus(status: number): string {
  const known: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthenticated',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    409: 'conflict',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    422: 'unprocessable',
    429: 'too_many_requests',
    503: 'unavailable',
  };
  return known[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
}
