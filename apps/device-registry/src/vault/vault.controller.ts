import { createHash } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Put, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiZodBody, ApiZodQuery, CONFIG, CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import { IDEMPOTENCY_HEADER, Idempotent, IdempotencyStore, requestFingerprint } from '@tessera/event-store';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ApiErrors, ApiZodResponse } from '../common/openapi';
import { type DeviceRegistryConfig } from '../config';
import { userParamsSchema } from '../devices/devices.schemas';
import { RetryAfterInterceptor } from '../registry/rate-limiter';
import { STEP_UP_HEADER } from '../registry/step-up.verifier';
import { VAULT_MEDIA_TYPE, restoreBodySchema, restoreResponseSchema, storedResponseSchema, uploadQuerySchema, vaultInfoResponseSchema } from './vault.schemas';
import { VaultService } from './vault.service';

@ApiTags('vault')
@ApiBearerAuth()
@UseInterceptors(RetryAfterInterceptor)
@Controller('v1/users/:userId/vault')
export class VaultController {
  constructor(
    @Inject(VaultService) private readonly vault: VaultService,
    @Inject(CONFIG) private readonly config: DeviceRegistryConfig,
    @Inject(IdempotencyStore) private readonly idempotency: IdempotencyStore,
  ) {}

  @Get()
  @ApiOperation({ summary: "The user's vault backup: the current one and the history of uploads (metadata only, never content)" })
  @ApiParam({ name: 'userId' })
  @ApiZodResponse(200, vaultInfoResponseSchema, 'Metadata of the backups')
  @ApiErrors({ 400: 'invalid_request', 401: 'unauthenticated', 403: 'forbidden' })
  info(@CurrentPrincipal() principal: Principal, @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>) {
    return this.vault.info(principal, params.userId);
  }

  @Put()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Store a new encrypted backup (replaces the current one)',
    description:
      'The body is the blob itself (libs/vault-client FORMAT.md), encrypted on the client: scrypt + AES-256-GCM under a passphrase the ' +
      'server never sees (S31). The server reads only its public header and refuses anything else, or a KDF below policy.',
  })
  @ApiParam({ name: 'userId' })
  @ApiConsumes(VAULT_MEDIA_TYPE)
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiZodQuery(uploadQuerySchema)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Retries with the same key and the same blob get the first answer; 8-200 characters.' })
  @ApiZodResponse(201, storedResponseSchema, 'Stored')
  @ApiErrors({
    400: 'invalid_request, empty_body',
    401: 'unauthenticated',
    403: 'forbidden (only the user uploads their vault)',
    404: 'device_not_found',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    422: 'invalid_vault_blob, weak_vault_kdf',
    429: 'rate_limited (with Retry-After)',
  })
  async upload(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Query(new ZodPipe(uploadQuerySchema)) query: z.infer<typeof uploadQuerySchema>,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const blob = await readBlob(request, this.config.VAULT_MAX_BLOB_BYTES);
    const store = () => this.vault.store(principal, params.userId, blob, query.deviceId ?? null);
    const key = request.header(IDEMPOTENCY_HEADER);
    if (!key) return store();
    // The shared interceptor fingerprints parsed JSON bodies; a blob is raw bytes, so its hash is the fingerprint here.
    const fingerprint = requestFingerprint('PUT', request.route?.path, params, query, createHash('sha256').update(blob).digest('hex'));
    const result = await this.idempotency.run(principal.subject, key, fingerprint, async () => ({ status: 201, body: await store() }));
    if (result.replayed) {
      response.status(result.status);
      response.setHeader('idempotent-replayed', 'true');
    }
    return result.body;
  }

  @Post('restores')
  @HttpCode(200)
  // The answer is the encrypted backup: it is never stored for replay; a retry steps up again.
  @Idempotent({ secretResponse: true })
  @ApiOperation({
    summary: 'Restore: download the encrypted backup onto a (new) device, inside a recent step-up',
    description:
      'Counts as a new binding (DESIGN.md ladder rung 3): recorded as VaultBackupRestored, which notifies the user on every channel and ' +
      'reaches the audit log. One step-up assertion allows one restore; restores are rate-limited per account.',
  })
  @ApiParam({ name: 'userId' })
  @ApiHeader({ name: STEP_UP_HEADER, required: true, description: "auth-service's step-up assertion for this user" })
  @ApiZodBody(restoreBodySchema)
  @ApiZodResponse(200, restoreResponseSchema, 'The blob, to decrypt on the client')
  @ApiErrors({
    400: 'invalid_request',
    401: 'unauthenticated, step_up_required, step_up_insufficient, step_up_already_used',
    403: 'forbidden, step_up_wrong_user',
    404: 'vault_backup_not_found, device_not_found',
    409: 'device_revoked',
    429: 'rate_limited (with Retry-After)',
  })
  restore(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Body(new ZodPipe(restoreBodySchema)) body: z.infer<typeof restoreBodySchema>,
    @Headers(STEP_UP_HEADER) stepUp: string | undefined,
  ) {
    return this.vault.restore(principal, params.userId, body, stepUp);
  }
}

/**
 * Reads the raw request body up to `limit` bytes. The platform parses JSON bodies only (64 KiB); a
 * blob has its own media type and its own, larger limit, enforced while reading so an oversized upload
 * is refused without buffering it.
 */
async function readBlob(request: Request, limit: number): Promise<Buffer> {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== VAULT_MEDIA_TYPE) {
    throw new ApiError(415, 'unsupported_media_type', `Send the vault blob as ${VAULT_MEDIA_TYPE}.`);
  }
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') throw new ApiError(415, 'unsupported_encoding', 'Send the vault blob without content encoding.');
  const tooLarge = () => {
    // Answer at once; after the answer the connection is closed rather than drained of an oversized body.
    const response = request.res;
    response?.setHeader('Connection', 'close');
    response?.once('finish', () => {
      if (!request.complete) request.destroy();
    });
    request.resume();
    return new ApiError(413, 'payload_too_large', `A vault blob is at most ${limit} bytes.`);
  };
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      settled = true;
      request.off('data', onData);
      reject(tooLarge());
    };
    request.on('data', onData);
    request.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, size));
    });
    request.once('error', () => {
      if (settled) return;
      settled = true;
      reject(new ApiError(400, 'request_aborted', 'The request body was not received in full.'));
    });
  });
}
