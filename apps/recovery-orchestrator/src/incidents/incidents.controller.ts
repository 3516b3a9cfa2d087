import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '@tessera/event-store';
import { ApiZodBody, ApiZodQuery, currentCorrelationId, CurrentPrincipal, type Principal, RequireRoles, ZodPipe } from '@tessera/platform';
import type { z } from 'zod';
import { ApiErrors } from '../recoveries/openapi';
import { freezeSchema, identifier, incidentDecisionSchema, listIncidentsSchema, revokeDevicesSchema, unfreezeSchema } from '../recoveries/recovery.schemas';
import { RecoveryService } from '../recoveries/recovery.service';

const correlation = () => currentCorrelationId() ?? 'none';
const idParam = new ZodPipe(identifier);

@ApiTags('incidents')
@Controller('v1')
export class IncidentsController {
  constructor(@Inject(RecoveryService) private readonly recoveries: RecoveryService) {}

  @Post('users/:userId/freeze')
  @Idempotent()
  @RequireRoles('user', 'security-officer')
  @ApiOperation({
    summary: 'Compromise suspected: freeze the account (an incident)',
    description: 'No factor changes, no recoveries; the recovery under way is cancelled; chosen devices are revoked; on-call is paged. A user may freeze their own account.',
  })
  @ApiParam({ name: 'userId' })
  @ApiZodBody(freezeSchema)
  @ApiErrors(403, 409, 503)
  freeze(@Param('userId', idParam) userId: string, @Body(new ZodPipe(freezeSchema)) body: z.output<typeof freezeSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.reportCompromise(principal, userId, body, correlation());
  }

  @Delete('users/:userId/freeze')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('security-officer')
  @ApiOperation({ summary: "Unfreeze: decide the incident that froze the account, with a reason (not the subject's own)" })
  @ApiParam({ name: 'userId' })
  @ApiZodBody(unfreezeSchema)
  @ApiErrors(403, 404, 409, 503)
  unfreeze(@Param('userId', idParam) userId: string, @Body(new ZodPipe(unfreezeSchema)) body: z.output<typeof unfreezeSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.unfreeze(principal, userId, body.reason, correlation());
  }

  @Get('incidents')
  @RequireRoles('helpdesk', 'security-officer', 'auditor', 'admin')
  @ApiOperation({ summary: 'List incidents, by status ("open" for every frozen account) and user' })
  @ApiZodQuery(listIncidentsSchema)
  @ApiErrors(403)
  list(@Query(new ZodPipe(listIncidentsSchema)) query: z.output<typeof listIncidentsSchema>) {
    return this.recoveries.listIncidents(query);
  }

  @Get('incidents/:incidentId')
  @RequireRoles('helpdesk', 'security-officer', 'auditor', 'admin')
  @ApiOperation({ summary: 'An incident and its timeline' })
  @ApiParam({ name: 'incidentId' })
  @ApiErrors(403, 404)
  show(@Param('incidentId', idParam) incidentId: string) {
    return this.recoveries.showIncident(incidentId);
  }

  @Post('incidents/:incidentId/decision')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('security-officer')
  @ApiOperation({ summary: 'Decide: unfreeze, or force one assisted recovery through the freeze' })
  @ApiParam({ name: 'incidentId' })
  @ApiZodBody(incidentDecisionSchema)
  @ApiErrors(403, 404, 409, 503)
  decide(@Param('incidentId', idParam) incidentId: string, @Body(new ZodPipe(incidentDecisionSchema)) body: z.output<typeof incidentDecisionSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.decideIncident(principal, incidentId, body, correlation());
  }

  @Post('incidents/:incidentId/device-revocations')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('security-officer')
  @ApiOperation({ summary: 'Revoke more of the user\'s devices while the account is frozen' })
  @ApiParam({ name: 'incidentId' })
  @ApiZodBody(revokeDevicesSchema)
  @ApiErrors(403, 404, 409, 503)
  revokeDevices(@Param('incidentId', idParam) incidentId: string, @Body(new ZodPipe(revokeDevicesSchema)) body: z.output<typeof revokeDevicesSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.revokeIncidentDevices(principal, incidentId, body.deviceIds, correlation());
  }
}
