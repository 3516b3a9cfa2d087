import { Body, Controller, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { Idempotent } from '@tessera/event-store';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Clock } from '@tessera/util';
import { ApiZodBody, assertSelfOrRoles, CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import { z } from 'zod';
import { actorOf } from '../../common/actor';
import { ApiErrors, ApiStepUp } from '../../common/openapi';
import { factorParamsSchema, userParamsSchema } from '../../common/schemas';
import { CLOCK } from '../../common/tokens';
import { STEP_UP_HEADER, StepUpService } from '../../step-up/step-up.service';
import { confirmTotpSchema, enrollTotpSchema, TotpService } from './totp.service';

@ApiTags('factors')
@Controller('v1/users/:userId/factors/totp')
export class TotpController {
  constructor(
    @Inject(TotpService) private readonly totp: TotpService,
    @Inject(StepUpService) private readonly stepUp: StepUpService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  // The answer holds the seed, shown once: a retry is told it was done, never given the seed again.
  @Idempotent({ secretResponse: true })
  @ApiOperation({
    summary: 'Enrol a TOTP authenticator (pending until confirmed)',
    description:
      'Generates a 160-bit-or-more seed and returns it once as an otpauth:// URI, base32 and a QR code (SVG and PNG), ' +
      'or imports an existing seed (otpauthUri, or secret with algorithm/digits/period). The factor is active only after ' +
      'POST …/{factorId}/confirmation with a code from the app.',
  })
  @ApiZodBody(enrollTotpSchema)
  @ApiStepUp()
  @ApiCreatedResponse({ description: 'The pending factor; for a generated seed, the URI, secret and QR code (shown once).' })
  @ApiErrors(403, 422)
  async enroll(
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Body(new ZodPipe(enrollTotpSchema)) body: z.infer<typeof enrollTotpSchema>,
    @Headers(STEP_UP_HEADER) stepUpHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    const now = this.clock.now();
    const authorization = await this.stepUp.bindingAuthorization(stepUpHeader, principal, params.userId, now);
    return this.totp.enroll(params.userId, body, authorization, actorOf(principal), now);
  }

  @Post(':factorId/confirmation')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'Confirm a pending TOTP factor with a code from the app; the factor becomes active' })
  @ApiZodBody(confirmTotpSchema)
  @ApiOkResponse({ description: '{ factorId, status: "active" }' })
  @ApiErrors(403, 404, 409, 422)
  async confirm(
    @Param(new ZodPipe(factorParamsSchema)) params: z.infer<typeof factorParamsSchema>,
    @Body(new ZodPipe(confirmTotpSchema)) body: z.infer<typeof confirmTotpSchema>,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    return this.totp.confirm(params.userId, params.factorId, body.code, actorOf(principal), this.clock.now());
  }
}
