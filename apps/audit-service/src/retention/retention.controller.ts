import { Body, Controller, Get, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '@tessera/event-store';
import { ApiZodBody, CurrentPrincipal, type Principal, RequireRoles, ZodPipe } from '@tessera/platform';
import { type RetentionBody, retentionBodySchema } from '../common/query-schemas';
import { RetentionService } from './retention.service';

@ApiTags('audit retention')
@ApiBearerAuth()
@Controller('v1/audit/retention')
export class RetentionController {
  constructor(@Inject(RetentionService) private readonly retention: RetentionService) {}

  @Get()
  @RequireRoles('auditor', 'admin')
  @ApiOperation({ summary: 'The retention policy and how far it has cut', description: 'Roles: auditor, admin.' })
  @ApiOkResponse({ description: '{ retentionDays, policySource, minimumDays, deletedThroughPosition, headPosition, oldestRecordedAt }' })
  status() {
    return this.retention.status();
  }

  @Put()
  @RequireRoles('admin')
  @Idempotent()
  @ApiOperation({
    summary: 'Set the retention policy',
    description: 'Days records are kept (null: for ever), never below AUDIT_RETENTION_MIN_DAYS (422 retention_below_minimum). The change is recorded in the log. Role: admin.',
  })
  @ApiZodBody(retentionBodySchema)
  setPolicy(@Body(new ZodPipe(retentionBodySchema)) body: RetentionBody, @CurrentPrincipal() principal: Principal) {
    return this.retention.setPolicy(body, principal);
  }

  @Post('runs')
  @HttpCode(200)
  @RequireRoles('admin')
  @Idempotent()
  @ApiOperation({
    summary: 'Apply the retention policy now',
    description:
      'Deletes the oldest records up to the newest signed checkpoint older than the horizon, after verifying them (409 chain_invalid when they do not verify: evidence is kept). ' +
      'The kept log still verifies, anchored at that checkpoint. Also runs every AUDIT_RETENTION_INTERVAL_MS. Role: admin.',
  })
  run(@CurrentPrincipal() principal: Principal) {
    return this.retention.run(principal);
  }
}
