import { Body, Controller, HttpCode, Inject, Options, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { DataConverter, Payload } from '@temporalio/common';
import { ApiError, CONFIG, Public, ZodPipe } from '@tessera/platform';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { RecoveryOrchestratorConfig } from '../service';
import { TEMPORAL_DATA_CONVERTER } from './temporal.tokens';

const base64 = z.string().max(1_000_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** Temporal's remote codec protocol: `{"payloads":[{"metadata":{key: base64}, "data": base64}]}`. */
const codecRequestSchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string().max(200), base64).optional(), data: base64.optional() }))
    .max(1_000),
});

/**
 * A remote codec endpoint for the local Temporal Web UI (`temporal server start-dev
 * --ui-codec-endpoint`), so that on-call reads the sealed payloads of a recovery — its memo with the
 * reason and the policy, inputs, results — in the UI (S32 keeps them sealed in Temporal's stores).
 *
 * Development only: the dev server's UI has no sign-in and so sends no token, which makes this a
 * decrypting endpoint anyone on the machine can call. It answers 404 when TESSERA_ENV is production;
 * there, run a codec server behind the organisation's sign-in, with the same keys.
 * Answers CORS only to TEMPORAL_UI_ORIGIN.
 */
@ApiExcludeController()
@Public()
@Controller('codec')
export class CodecController {
  constructor(
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
    @Inject(TEMPORAL_DATA_CONVERTER) private readonly converter: DataConverter,
  ) {}

  @Options('decode')
  @HttpCode(204)
  preflight(@Req() request: Request, @Res({ passthrough: true }) response: Response): void {
    this.assertAvailable();
    this.allowOrigin(request, response);
  }

  @Post('decode')
  @HttpCode(200)
  async decode(
    @Body(new ZodPipe(codecRequestSchema)) body: z.infer<typeof codecRequestSchema>,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<{ payloads: { metadata: Record<string, string>; data: string }[] }> {
    this.assertAvailable();
    this.allowOrigin(request, response);
    const namespace = request.headers['x-namespace'];
    if (namespace !== undefined && namespace !== this.config.TEMPORAL_NAMESPACE) {
      throw new ApiError(400, 'unknown_namespace', `This codec serves the namespace ${this.config.TEMPORAL_NAMESPACE}.`);
    }
    let payloads: Payload[] = body.payloads.map((payload) => ({
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
      data: Buffer.from(payload.data ?? '', 'base64'),
    }));
    try {
      for (const codec of [...(this.converter.payloadCodecs ?? [])].reverse()) payloads = await codec.decode(payloads);
    } catch {
      throw new ApiError(422, 'undecodable_payload', 'A payload could not be decoded with the configured keys (altered, or sealed under a key no longer in TEMPORAL_PAYLOAD_KEYS).');
    }
    return {
      payloads: payloads.map((payload) => ({
        metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
        data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
      })),
    };
  }

  private assertAvailable(): void {
    if (this.config.TESSERA_ENV === 'production') throw new ApiError(404, 'not_found', 'No codec endpoint in production: run one behind your sign-in.');
  }

  private allowOrigin(request: Request, response: Response): void {
    if (request.headers.origin !== this.config.TEMPORAL_UI_ORIGIN) return;
    response.setHeader('access-control-allow-origin', this.config.TEMPORAL_UI_ORIGIN);
    response.setHeader('access-control-allow-methods', 'POST, OPTIONS');
    response.setHeader('access-control-allow-headers', 'content-type, x-namespace');
    response.setHeader('vary', 'origin');
  }
}
