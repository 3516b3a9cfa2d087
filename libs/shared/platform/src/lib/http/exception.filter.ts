import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { DomainError } from '@tessera/event-sourcing';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { currentCorrelationId } from '../observability/correlation';
import { ApiError, type ApiErrorBody, codeForStatus, statusOfDomainError } from './api-error';

/** Turns every error into the ApiErrorBody shape; unexpected ones are logged with their stack, answered 500 without it. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
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
