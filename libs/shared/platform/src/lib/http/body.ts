import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ApiError } from './api-error';

/**
 * JSON bodies only, size-limited, and refused when nested deeper than `maxDepth` (R7: large or deeply
 * nested bodies are refused before any handler sees them).
 */
export function jsonBody(limitBytes: number, maxDepth = 16): (RequestHandler | ErrorRequestHandler)[] {
  return [
    express.json({ limit: limitBytes, strict: true, type: ['application/json', 'application/*+json'] }),
    translateBodyErrors,
    depthGuard(maxDepth),
  ];
}

/** Express's body parser reports by `type`; answer each with our own code and a message that echoes nothing. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.too.large': [413, 'payload_too_large', 'The request body is larger than this endpoint accepts.'],
  'entity.parse.failed': [400, 'malformed_json', 'The request body is not valid JSON.'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'The request body encoding is not supported.'],
  'charset.unsupported': [415, 'unsupported_encoding', 'The request body charset is not supported.'],
  'request.aborted': [400, 'request_aborted', 'The request body was not received in full.'],
};

const translateBodyErrors: ErrorRequestHandler = (error: { type?: string }, _request, _response, next) => {
  const known = error && typeof error.type === 'string' ? BODY_ERRORS[error.type] : undefined;
  next(known ? new ApiError(...known) : error);
};

function depthGuard(maxDepth: number): RequestHandler {
  return (request: Request, _response: Response, next: NextFunction) => {
    if (request.body !== undefined && depthOf(request.body, maxDepth) > maxDepth) {
      next(new ApiError(400, 'body_too_deep', `The request body is nested deeper than ${maxDepth} levels.`));
      return;
    }
    next();
  };
}

/** Iterative depth measure that stops as soon as `limit` is exceeded (no recursion to blow the stack). */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, here]);
  }
  return deepest;
}
