import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { SECURITY_HISTORY_FIELDS } from '@tessera/audit-domain';
import { ApiZodQuery, CurrentPrincipal, type Principal, ZodPipe, assertSelfOrRoles } from '@tessera/platform';
import { type HistoryQuery, historyQuerySchema, userIdParamSchema } from '../common/query-schemas';
import { SecurityHistoryService } from './security-history.service';

@ApiTags('security history')
@ApiBearerAuth()
@Controller('v1/users/:userId/security-history')
export class SecurityHistoryController {
  constructor(@Inject(SecurityHistoryService) private readonly history: SecurityHistoryService) {}

  @Get()
  @ApiOperation({
    summary: "The user's own security history",
    description:
      'What happened to the account, newest first, in words ("New security key added", "Recovery requested by helpdesk"), so the user can spot what they did not do. ' +
      `Only the user themself may read it, and only these fields are shown: ${SECURITY_HISTORY_FIELDS.join(', ')}.`,
  })
  @ApiParam({ name: 'userId', description: 'Must be the caller' })
  @ApiZodQuery(historyQuerySchema)
  @ApiOkResponse({ description: '{ items: [{eventId, occurredAt, category, outcome, title, by, deviceName?}], nextCursor }' })
  @ApiForbiddenResponse({ description: 'Another user, or a staff member' })
  async read(@Param('userId', new ZodPipe(userIdParamSchema)) userId: string, @Query(new ZodPipe(historyQuerySchema)) query: HistoryQuery, @CurrentPrincipal() principal: Principal) {
    assertSelfOrRoles(principal, userId);
    return this.history.history(userId, query);
  }
}
