import { Body, Controller, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { Idempotent } from '@tessera/event-store';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiZodBody, assertSelfOrRoles, CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import { z } from 'zod';
import { actorOf } from '../../common/actor';
import { ApiErrors, ApiStepUp } from '../../common/openapi';
import { userParamsSchema } from '../../common/schemas';
import { CLOCK } from '../../common/tokens';
import { STEP_UP_HEADER, StepUpService } from '../../step-up/step-up.service';
import { registerWebAuthnSchema, registrationOptionsSchema } from './webauthn.schemas';
import { WebAuthnService } from './webauthn.service';

@ApiTags('factors')
@Controller('v1/users/:userId/factors/webauthn')
export class WebAuthnController {
  constructor(
    @Inject(WebAuthnService) private readonly webAuthn: WebAuthnService,
    @Inject(StepUpService) private readonly stepUp: StepUpService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('registration-options')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({
    summary: 'Start registering a passkey or security key',
    description: 'PublicKeyCredentialCreationOptionsJSON with a server-stored challenge (256 bits, 60 s, single use); user verification required, attestation none.',
  })
  @ApiZodBody(registrationOptionsSchema)
  @ApiOkResponse({ description: '{ challengeId, expiresAt, options }' })
  @ApiErrors(403)
  async registrationOptions(
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Body(new ZodPipe(registrationOptionsSchema.optional())) _body: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    return this.webAuthn.registrationOptions(params.userId, this.clock.now());
  }

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Finish registering a passkey or security key (named; several per user)' })
  @ApiZodBody(registerWebAuthnSchema)
  @ApiStepUp()
  @ApiCreatedResponse({ description: '{ factorId, name, aaguid, deviceBound, status }' })
  @ApiErrors(403, 409, 422)
  async register(
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Body(new ZodPipe(registerWebAuthnSchema)) body: z.infer<typeof registerWebAuthnSchema>,
    @Headers(STEP_UP_HEADER) stepUpHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    const now = this.clock.now();
    const authorization = await this.stepUp.bindingAuthorization(stepUpHeader, principal, params.userId, now);
    return this.webAuthn.register(params.userId, body, authorization, actorOf(principal), now);
  }
}
