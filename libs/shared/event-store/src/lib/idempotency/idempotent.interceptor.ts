import { type CallHandler, type ExecutionContext, HttpStatus, Inject, Injectable, type NestInterceptor, SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { Principal } from '@tessera/platform';
import type { Request, Response } from 'express';
import { type Observable, from, lastValueFrom } from 'rxjs';
import { IdempotencyStore, requestFingerprint } from './idempotency-store';

const OPTIONS = 'tessera:idempotent';

export interface IdempotentOptions {
  /** The response holds a secret shown once (backup codes, a new TOTP seed): never stored or replayed. */
  readonly secretResponse?: boolean;
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Replays the first answer to a retried mutating request that carries the same Idempotency-Key. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const key = request.header(IDEMPOTENCY_HEADER);
    if (!key) return next.handle();
    const response = context.switchToHttp().getResponse<Response>();
    const options = this.reflector.get<IdempotentOptions>(OPTIONS, context.getHandler()) ?? {};
    const status = this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ?? (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    const caller = request.principal?.subject ?? 'anonymous';
    const fingerprint = requestFingerprint(request.method, request.route?.path ?? request.path, request.params, request.body ?? null);
    return from(
      this.store
        .run(caller, key, fingerprint, async () => {
          const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
          // The status the handler answered with: one that sets it itself (e.g. 202 instead of 201,
          // through `@Res({ passthrough: true })`) must be replayed with it, not with the route default.
          return { status: response.statusCode || status, body, secret: options.secretResponse };
        })
        .then((result) => {
          if (result.replayed) {
            response.status(result.status);
            response.setHeader('idempotent-replayed', 'true');
          }
          return result.body;
        }),
    );
  }
}

/** Marks a mutating endpoint as honouring the Idempotency-Key header. */
export const Idempotent = (options: IdempotentOptions = {}) =>
  applyDecorators(
    SetMetadata(OPTIONS, options),
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Retries with the same key and request get the first answer; 8-200 characters.' }),
  );
