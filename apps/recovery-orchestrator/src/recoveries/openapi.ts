import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';

/** The error answers of a route (R7): `{error:{code,message,details?},correlationId}`, never a stack trace. */
export function ApiErrors(...statuses: number[]) {
  const describe: Record<number, string> = {
    400: 'invalid_request / malformed_json / body_too_deep / invalid_idempotency_key',
    401: 'unauthenticated: no valid bearer token',
    403: 'forbidden, or a separation-of-duties rule (approver_is_subject, approver_is_requester, ...)',
    404: 'recovery_not_found / incident_not_found (also for resources of other users)',
    409: 'a state rule refused the step (duplicate_vote, recovery_terminal, recovery_already_active, ...)',
    413: 'payload_too_large',
    422: 'the input is refused by a rule (evidence_kind_not_accepted, idempotency_key_reused, ...)',
    503: 'workflow_unavailable: Temporal or the worker did not take the step in time',
  };
  return applyDecorators(ApiBearerAuth(), ...[400, 401, ...statuses].map((status) => ApiResponse({ status, description: describe[status] })));
}
