import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import { type Clock } from '@tessera/util';
import type { z } from 'zod';
import { assertMay } from '../common/access';
import { ApiErrors, ApiZodResponse } from '../common/openapi';
import { CLOCK } from '../common/tokens';
import { userParamsSchema } from '../devices/devices.schemas';
import { type ReadinessReport, ReadinessAssessor } from '../registry/readiness-assessor';
import { readinessResponseSchema } from './readiness.schemas';

@ApiTags('readiness')
@ApiBearerAuth()
@Controller('v1')
export class ReadinessController {
  constructor(
    @Inject(ReadinessAssessor) private readonly readiness: ReadinessAssessor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('users/:userId/readiness')
  @ApiOperation({
    summary: "A user's recovery readiness: findings, a summary level, and which backup methods exist or are missing",
    description:
      'Findings: only_one_factor, only_restricted_factors, no_backup_codes_left, few_backup_codes_left, no_hardware_key, ' +
      'no_vault_backup, vault_backup_stale. When the level drops after a change, RecoveryReadinessDropped is published so the user can be nudged.',
  })
  @ApiParam({ name: 'userId' })
  @ApiZodResponse(200, readinessResponseSchema, 'The assessment, computed now')
  @ApiErrors({ 400: 'invalid_request', 401: 'unauthenticated', 403: 'forbidden' })
  get(@CurrentPrincipal() principal: Principal, @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>): Promise<ReadinessReport> {
    assertMay(principal, params.userId, 'read');
    return this.readiness.assess(params.userId, this.clock.now());
  }
}
