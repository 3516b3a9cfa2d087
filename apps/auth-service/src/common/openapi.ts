import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiResponse } from '@nestjs/swagger';
import { STEP_UP_HEADER } from '../step-up/step-up.service';

/** The error answers every route may give (R7): a machine-readable code, never a stack trace. */
export function ApiErrors(...statuses: number[]) {
  const describe: Record<number, string> = {
    400: 'invalid_request / malformed_json / body_too_deep: the input does not match the schema',
    401: 'unauthenticated: no valid bearer token',
    403: 'forbidden / step_up_*: the caller may not do this',
    404: 'not found',
    409: 'conflict (e.g. last_factor, concurrent_modification)',
    413: 'payload_too_large',
    422: 'a rule refused the input (e.g. invalid_base32, verification_failed)',
    429: 'throttled / account_locked / address_limit',
  };
  return applyDecorators(ApiBearerAuth(), ...[400, 401, ...statuses].map((status) => ApiResponse({ status, description: describe[status] })));
}

/** S21: binding or removing a factor needs a recent step-up assertion issued by this service. */
export function ApiStepUp() {
  return ApiHeader({
    name: STEP_UP_HEADER,
    required: false,
    description: "A step-up assertion from POST /v1/step-up at the account's highest level, at most 5 minutes old (needed once a factor exists)",
  });
}
