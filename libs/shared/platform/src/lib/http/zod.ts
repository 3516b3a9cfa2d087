import { type ArgumentMetadata, type PipeTransform, applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * One way to validate input: a zod schema. `ZodPipe` validates a body/query/param at the boundary
 * (a ZodError becomes a 400 `invalid_request` with per-field details); `ApiZodBody` documents the same
 * schema in OpenAPI, so the documentation cannot drift from what is enforced.
 */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, _metadata: ArgumentMetadata): z.infer<S> {
    return this.schema.parse(value);
  }
}

export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return jsonSchema;
}

export function ApiZodBody(schema: z.ZodType, description?: string) {
  return applyDecorators(ApiBody({ schema: openApiSchema(schema) as never, description }));
}

export function ApiZodQuery(schema: z.ZodObject) {
  const json = openApiSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) =>
      ApiQuery({ name, required: json.required?.includes(name) ?? false, schema: property as never }),
    ),
  );
}
