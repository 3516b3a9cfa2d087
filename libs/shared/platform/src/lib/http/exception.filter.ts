import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { DomainError } from '@tessera/event-sourcing';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { type Observable, throwError } from 'rxjs';
import { ZodError } from 'zod';
import { currentCorrelationId } from '../observability/correlation';
import { ApiError, type ApiErrorBody, codeForStatus, statusOfDomainError } from './api-error';

/** Turns every error into the ApiErrorBody shape; unexpected ones are logged with their stack, answered 500 without it. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') {
      // gRPC callers get the same code and message, as a gRPC status (the transport reads `code`).
      const { status, body } = this.describe(exception);
      if (status >= 500) this.logger.error({ err: exception }, 'rpc failed');
      return throwError(() => ({ code: grpcStatusFor(status), message: `${body.error.code}: ${body.error.message}`, details: body.error.code }));
    }
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const { status, body } = this.describe(exception);
    if (status >= 500) {
      this.logger.error({ err: exception, method: request.method, route: request.route?.path ?? 'unmatched' }, 'request failed');
    }
    if (!response.headersSent) response.status(status).json(body);
  }

  describe(exception: unknown): { status: number; body: ApiErrorBody } {
    const correlationId = currentCorrelationId();
    const answer = (status: number, code: string, message: string, details?: ApiErrorBody['error']['details']) => ({
      status,
      body: { error: details ? { code, message, details } : { code, message }, correlationId },
    });

    if (exception instanceof ApiError) return answer(exception.status, exception.code, exception.message, exception.details);
    if (exception instanceof DomainError) return answer(statusOfDomainError(exception), exception.code, exception.message);
    if (exception instanceof ZodError) {
      return answer(
        HttpStatus.BAD_REQUEST,
        'invalid_request',
        'The request does not match the expected shape.',
        exception.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })),
      );
    }
    if (exception instanceof HttpException) {
      // Nest wraps errors passed on by Express middleware; answer with the original when it is ours.
      if (exception.cause instanceof ApiError) return this.describe(exception.cause);
      const status = exception.getStatus();
      const response = exception.getResponse();
      const code = typeof response === 'object' && response && 'code' in response ? String(response.code) : codeForStatus(status);
      const message = status === HttpStatus.NOT_FOUND ? 'No such resource.' : exception.message;
      return answer(status, code, message);
    }
    return answer(HttpStatus.INTERNAL_SERVER_ERROR, 'internal_error', 'An unexpected error occurred; it has been logged.');
  }
}

/** HTTP status → gRPC status code (grpc/doc/statuscodes.md; the usual HTTP mapping). */
export function grpcStatusFor(httpStatus: number): number {
  const map: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 413: 8, 415: 3, 422: 9, 429: 8, 503: 14 };
  return map[httpStatus] ?? (httpStatus >= 500 ? 13 : 3);
}
