import { Controller, Delete, Get, Headers, Inject, Param, Query } from '@nestjs/common';
import { Idempotent } from '@tessera/event-store';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiZodQuery, assertSelfOrRoles, CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import { z } from 'zod';
import { actorOf } from '../common/actor';
import { ApiErrors, ApiStepUp } from '../common/openapi';
import { factorParamsSchema, userParamsSchema } from '../common/schemas';
import { CLOCK } from '../common/tokens';
import { STEP_UP_HEADER, StepUpService } from '../step-up/step-up.service';
import { FactorsService } from './factors.service';

const listQuerySchema = z.object({ includeRevoked: z.enum(['true', 'false']).optional() }).strict();

@ApiTags('factors')
@Controller('v1/users/:userId/factors')
export class FactorsController {
  constructor(
    @Inject(FactorsService) private readonly factors: FactorsService,
    @Inject(StepUpService) private readonly stepUp: StepUpService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({ summary: "A user's factors: kind, name, status, last use; never a secret" })
  @ApiZodQuery(listQuerySchema)
  @ApiOkResponse({ description: '{ factors: [...], frozen }' })
  @ApiErrors(403)
  async list(
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Query(new ZodPipe(listQuerySchema)) query: z.infer<typeof listQuerySchema>,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId, 'helpdesk', 'security-officer', 'admin');
    return this.factors.list(params.userId, query.includeRevoked === 'true');
  }

  @Delete(':factorId')
  @Idempotent()
  @ApiOperation({
    summary: 'Remove a factor',
    description:
      'Takes effect before the answer (S23). Needs a step-up at the account\'s highest level (S21); the last usable factor cannot be removed outside a recovery (S24, 409 last_factor).',
  })
  @ApiStepUp()
  @ApiOkResponse({ description: '{ factorId, alreadyRevoked }' })
  @ApiErrors(403, 404, 409)
  async revoke(
    @Param(new ZodPipe(factorParamsSchema)) params: z.infer<typeof factorParamsSchema>,
    @Headers(STEP_UP_HEADER) stepUpHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    const now = this.clock.now();
    const authorization = await this.stepUp.bindingAuthorization(stepUpHeader, principal, params.userId, now);
    if (authorization.kind !== 'step_up') {
      // A pass is good only for enrolling; removing old factors is the recovery's own step (gRPC RevokeCredential).
      throw new ApiError(403, 'step_up_insufficient', 'A temporary access pass can only add factors.');
    }
    return this.factors.revoke(params.userId, params.factorId, authorization, actorOf(principal), now);
  }
}
