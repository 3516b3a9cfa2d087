import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '@tessera/event-store';
import { ApiZodBody, ApiZodQuery, currentCorrelationId, CurrentPrincipal, type Principal, Public, RequireRoles, RequireScopes, ZodPipe } from '@tessera/platform';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ApiErrors } from './openapi';
import {
  cancelLinkSchema,
  cancelSchema,
  enrolmentSchema,
  evidenceSchema,
  identifier,
  listRecoveriesSchema,
  reasonSchema,
  redeemSchema,
  reviewSchema,
  startRecoverySchema,
} from './recovery.schemas';
import { RecoveryService } from './recovery.service';

/** The scope of auth-service when it reports that a recovery's pass was used and a factor enrolled with it. */
export const RECOVERY_ENROL_SCOPE = 'recoveries:enrol';

const correlation = () => currentCorrelationId() ?? 'none';
const idParam = new ZodPipe(identifier);

@ApiTags('recoveries')
@Controller('v1')
export class RecoveriesController {
  constructor(@Inject(RecoveryService) private readonly recoveries: RecoveryService) {}

  @Post('recoveries')
  @Idempotent()
  @RequireRoles('user', 'helpdesk', 'security-officer')
  @ApiOperation({
    summary: 'Start an assisted or break-glass recovery',
    description:
      'Staff (helpdesk, security-officer; break-glass: security-officer) give a ticket reference and get 201 with the recovery. ' +
      'A user asking for their own account always gets the same 202 (S27); the next steps reach them on their registered channels. ' +
      'One active recovery per user: 409 recovery_already_active. A frozen account: 403 account_frozen.',
  })
  @ApiZodBody(startRecoverySchema)
  @ApiErrors(403, 409, 422, 503)
  async start(@Body(new ZodPipe(startRecoverySchema)) body: z.output<typeof startRecoverySchema>, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) response: Response) {
    const { status, body: answer } = await this.recoveries.start(principal, body, correlation());
    response.status(status);
    return answer;
  }

  @Get('recoveries')
  @RequireRoles('helpdesk', 'security-officer', 'auditor', 'admin')
  @ApiOperation({ summary: 'List recoveries, by state (or "active"), user and kind, newest first' })
  @ApiZodQuery(listRecoveriesSchema)
  @ApiOkResponse({ description: '{ recoveries: [...] }' })
  @ApiErrors(403)
  list(@Query(new ZodPipe(listRecoveriesSchema)) query: z.output<typeof listRecoveriesSchema>) {
    return this.recoveries.list(query);
  }

  @Get('users/:userId/recoveries')
  @ApiOperation({ summary: "A user's recoveries (the user themself, or staff)" })
  @ApiParam({ name: 'userId' })
  @ApiErrors(403)
  forUser(@Param('userId', idParam) userId: string, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.listForUser(principal, userId);
  }

  @Get('recoveries/:recoveryId')
  @ApiOperation({ summary: 'A recovery and its timeline (staff, or its subject without staff ids)' })
  @ApiParam({ name: 'recoveryId' })
  @ApiErrors(404)
  show(@Param('recoveryId', idParam) recoveryId: string, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.show(principal, recoveryId);
  }

  @Post('recoveries/:recoveryId/evidence')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('helpdesk', 'security-officer')
  @ApiOperation({
    summary: 'Record identity re-verification evidence',
    description: 'helpdesk-attestation: the caller attests (and may then not approve); idv-webhook: the provider is asked, through a signed webhook, for the outcome of its check.',
  })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(evidenceSchema)
  @ApiErrors(403, 404, 409, 422, 503)
  evidence(@Param('recoveryId', idParam) recoveryId: string, @Body(new ZodPipe(evidenceSchema)) body: z.output<typeof evidenceSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.recordEvidence(principal, recoveryId, body, correlation());
  }

  @Post('recoveries/:recoveryId/approve')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('security-officer')
  @ApiOperation({ summary: 'Approve with a reason (S25: not the subject, the requester or the attester; one vote each)' })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(reasonSchema)
  @ApiErrors(403, 404, 409, 503)
  approve(@Param('recoveryId', idParam) recoveryId: string, @Body(new ZodPipe(reasonSchema)) body: z.output<typeof reasonSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.approve(principal, recoveryId, body.reason, correlation());
  }

  @Post('recoveries/:recoveryId/reject')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('security-officer')
  @ApiOperation({ summary: 'Reject with a reason (before the pass is issued; after that, freeze the account)' })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(reasonSchema)
  @ApiErrors(403, 404, 409, 503)
  reject(@Param('recoveryId', idParam) recoveryId: string, @Body(new ZodPipe(reasonSchema)) body: z.output<typeof reasonSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.reject(principal, recoveryId, body.reason, correlation());
  }

  @Post('recoveries/:recoveryId/cancel')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('user')
  @ApiOperation({ summary: 'The subject cancels, with any remaining factor (checked by auth-service); a cancel before completion always wins' })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(cancelSchema)
  @ApiErrors(403, 404, 409, 422, 503)
  cancel(
    @Param('recoveryId', idParam) recoveryId: string,
    @Body(new ZodPipe(cancelSchema)) body: z.output<typeof cancelSchema>,
    @CurrentPrincipal() principal: Principal,
    @Req() request: Request,
  ) {
    return this.recoveries.cancelWithStepUp(principal, recoveryId, body, request.ip ?? 'unknown', correlation());
  }

  @Post('recoveries/:recoveryId/wasnt-me')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: '"This wasn\'t me": the signed single-use link from a notice cancels the recovery and opens an incident' })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(cancelLinkSchema)
  @ApiErrors(403, 409, 503)
  wasntMe(@Param('recoveryId', idParam) recoveryId: string, @Body(new ZodPipe(cancelLinkSchema)) body: z.output<typeof cancelLinkSchema>) {
    return this.recoveries.cancelWithLink(recoveryId, body.token, correlation());
  }

  @Post('recoveries/:recoveryId/review')
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('security-officer')
  @ApiOperation({ summary: 'Close the post-incident review of an ended break-glass recovery' })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(reviewSchema)
  @ApiErrors(403, 404, 409, 503)
  review(@Param('recoveryId', idParam) recoveryId: string, @Body(new ZodPipe(reviewSchema)) body: z.output<typeof reviewSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.closeReview(principal, recoveryId, body.findingsReference, correlation());
  }

  @Post('recoveries/:recoveryId/pass-redemptions')
  @HttpCode(200)
  @Idempotent()
  @RequireScopes(RECOVERY_ENROL_SCOPE)
  @ApiOperation({ summary: 'auth-service: the pass was presented; may it be used? (S25: this recovery\'s, once, before it expires)' })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(redeemSchema)
  @ApiErrors(403, 404, 409, 503)
  redeem(@Param('recoveryId', idParam) recoveryId: string, @Body(new ZodPipe(redeemSchema)) body: z.output<typeof redeemSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.step(principal, recoveryId, { type: 'RedeemTemporaryAccessPass', passId: body.passId }, correlation());
  }

  @Post('recoveries/:recoveryId/enrolments')
  @HttpCode(200)
  @Idempotent()
  @RequireScopes(RECOVERY_ENROL_SCOPE)
  @ApiOperation({ summary: 'auth-service: a factor was enrolled with the redeemed pass (S21)' })
  @ApiParam({ name: 'recoveryId' })
  @ApiZodBody(enrolmentSchema)
  @ApiErrors(403, 404, 409, 422, 503)
  enrol(@Param('recoveryId', idParam) recoveryId: string, @Body(new ZodPipe(enrolmentSchema)) body: z.output<typeof enrolmentSchema>, @CurrentPrincipal() principal: Principal) {
    return this.recoveries.step(principal, recoveryId, { type: 'RecordEnrolment', passId: body.passId, factorId: body.factorId, factorKind: body.factorKind }, correlation());
  }
}
