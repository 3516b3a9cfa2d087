import { Body, Controller, Headers, Inject, Param, Post } from '@nestjs/common';
import { Idempotent } from '@tessera/event-store';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiZodBody, assertSelfOrRoles, CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import { z } from 'zod';
import { actorOf } from '../../common/actor';
import { ApiErrors, ApiStepUp } from '../../common/openapi';
import { userParamsSchema } from '../../common/schemas';
import { CLOCK } from '../../common/tokens';
import { STEP_UP_HEADER, StepUpService } from '../../step-up/step-up.service';
import { OutOfBandService } from './out-of-band.service';

export const addEmailSchema = z.object({ address: z.email().max(254) }).strict();
export const addSmsSchema = z.object({ phoneNumber: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number') }).strict();

@ApiTags('factors')
@Controller('v1/users/:userId/factors')
export class OutOfBandController {
  constructor(
    @Inject(OutOfBandService) private readonly outOfBand: OutOfBandService,
    @Inject(StepUpService) private readonly stepUp: StepUpService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('email')
  @Idempotent()
  @ApiOperation({ summary: 'Add an email address for one-time codes (restricted factor, AAL1; a policy may forbid it)' })
  @ApiZodBody(addEmailSchema)
  @ApiStepUp()
  @ApiCreatedResponse({ description: '{ factorId, kind, destinationHint, status }' })
  @ApiErrors(403, 422)
  async addEmail(
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Body(new ZodPipe(addEmailSchema)) body: z.infer<typeof addEmailSchema>,
    @Headers(STEP_UP_HEADER) stepUpHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    const now = this.clock.now();
    const authorization = await this.stepUp.bindingAuthorization(stepUpHeader, principal, params.userId, now);
    return this.outOfBand.addChannel(params.userId, 'email_otp', body.address, authorization, actorOf(principal), now);
  }

  @Post('sms')
  @Idempotent()
  @ApiOperation({ summary: 'Add a phone number for SMS codes (restricted factor, 63B-4 §3.1.3.3; a policy may forbid it)' })
  @ApiZodBody(addSmsSchema)
  @ApiStepUp()
  @ApiCreatedResponse({ description: '{ factorId, kind, destinationHint, status }' })
  @ApiErrors(403, 422)
  async addSms(
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Body(new ZodPipe(addSmsSchema)) body: z.infer<typeof addSmsSchema>,
    @Headers(STEP_UP_HEADER) stepUpHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    const now = this.clock.now();
    const authorization = await this.stepUp.bindingAuthorization(stepUpHeader, principal, params.userId, now);
    return this.outOfBand.addChannel(params.userId, 'sms_otp', body.phoneNumber, authorization, actorOf(principal), now);
  }
}
