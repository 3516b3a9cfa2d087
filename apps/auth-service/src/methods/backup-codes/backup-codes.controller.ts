import { Controller, Get, Headers, Inject, Param, Post } from '@nestjs/common';
import { Idempotent } from '@tessera/event-store';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { assertSelfOrRoles, CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import { z } from 'zod';
import { actorOf } from '../../common/actor';
import { ApiErrors, ApiStepUp } from '../../common/openapi';
import { userParamsSchema } from '../../common/schemas';
import { CLOCK } from '../../common/tokens';
import { STEP_UP_HEADER, StepUpService } from '../../step-up/step-up.service';
import { BackupCodesService } from './backup-codes.service';

@ApiTags('backup-codes')
@Controller('v1/users/:userId/backup-codes')
export class BackupCodesController {
  constructor(
    @Inject(BackupCodesService) private readonly backupCodes: BackupCodesService,
    @Inject(StepUpService) private readonly stepUp: StepUpService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  // S14: the codes are shown once; a retry is told the set was made, never shown the codes again.
  @Idempotent({ secretResponse: true })
  @ApiOperation({
    summary: 'Generate a new set of 10 backup codes (voids the previous set)',
    description: 'Needs an AAL2-or-higher step-up (S14). The codes are in this response only; the service keeps salted hashes.',
  })
  @ApiStepUp()
  @ApiCreatedResponse({ description: '{ factorId, codes[10], remaining, replacedFactorId }' })
  @ApiErrors(403)
  async generate(
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Headers(STEP_UP_HEADER) stepUpHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ) {
    assertSelfOrRoles(principal, params.userId);
    const now = this.clock.now();
    const authorization = await this.stepUp.bindingAuthorization(stepUpHeader, principal, params.userId, now);
    return this.backupCodes.generate(params.userId, authorization, actorOf(principal), now);
  }

  @Get()
  @ApiOperation({ summary: 'How many backup codes remain (never the codes)' })
  @ApiOkResponse({ description: '{ factorId, total, remaining, generatedAt }' })
  @ApiErrors(403)
  async status(@Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>, @CurrentPrincipal() principal: Principal) {
    assertSelfOrRoles(principal, params.userId, 'helpdesk', 'security-officer', 'admin');
    return this.backupCodes.status(params.userId);
  }
}
