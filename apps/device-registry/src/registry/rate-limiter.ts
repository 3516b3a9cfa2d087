import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { ApiError, DATA_SOURCE } from '@tessera/platform';
import type { Response } from 'express';
import { type Observable, catchError, throwError } from 'rxjs';
import type { DataSource } from 'typeorm';

/** 429 with the number of seconds until the window resets (sent as Retry-After, RFC 9110 §10.2.3). */
export class RateLimitedError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'rate_limited', message);
  }
}

/**
 * Fixed-window counters in PostgreSQL, so a limit holds across every instance and restart: one atomic
 * upsert per hit, no read-then-write race. Coarse but sufficient for actions counted per hour.
 */
@Injectable()
export class RateLimiter {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async hit(bucket: string, limit: number, windowMs: number, now: Date, what: string): Promise<void> {
    const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
    const [{ hits }]: { hits: number }[] = await this.dataSource.query(
      `INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
       ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1
       RETURNING hits`,
      [bucket, windowStart],
    );
    if (hits > limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((windowStart.getTime() + windowMs - now.getTime()) / 1000));
      throw new RateLimitedError(`Too many ${what}; at most ${limit} per ${Math.round(windowMs / 60_000)} minutes.`, retryAfterSeconds);
    }
  }
}

/** Adds Retry-After to a 429 before the exception filter writes the body. */
@Injectable()
export class RetryAfterInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (error instanceof RateLimitedError && context.getType() === 'http') {
          context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(error.retryAfterSeconds));
        }
        return throwError(() => error);
      }),
    );
  }
}
