import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { openApiSchema } from '@tessera/platform';
import type { z } from 'zod';

/** The ApiErrorBody every 4xx/5xx carries (libs/shared/platform api-error.ts). */
const ERROR_BODY = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
      },
      required: ['code', 'message'],
    },
    correlationId: { type: 'string' },
  },
};

/** A success response documented from its zod schema. */
export function ApiZodResponse(status: number, schema: z.ZodType, description: string) {
  return ApiResponse({ status, description, schema: openApiSchema(schema) as never });
}

/** Error responses, each with the codes it can carry. */
export function ApiErrors(errors: Readonly<Record<number, string>>) {
  return applyDecorators(...Object.entries(errors).map(([status, description]) => ApiResponse({ status: Number(status), description, schema: ERROR_BODY as never })));
}
