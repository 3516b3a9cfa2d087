import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { ApiZodBody, RequireRoles, ZodPipe } from '@tessera/platform';
import { type VerifyBody, verifyBodySchema } from '../common/query-schemas';
import { ChainVerificationService } from './chain-verification.service';

@ApiTags('audit verification')
@ApiBearerAuth()
@Controller('v1/audit/verify')
export class VerifyController {
  constructor(@Inject(ChainVerificationService) private readonly verification: ChainVerificationService) {}

  @Post()
  @HttpCode(200)
  @RequireRoles('auditor', 'admin')
  @ApiOperation({
    summary: 'Verify the hash chain and the signed checkpoints (R8)',
    description:
      'Reads every record in position order and answers `ok: true` with counts, or `ok: false` with the first bad position and why ' +
      '(hash_mismatch, previous_hash_mismatch, position_gap, position_out_of_order, checkpoint_signature_invalid, checkpoint_head_mismatch, ' +
      'checkpoint_missing, checkpoint_malformed, truncated_after_checkpoint, record_malformed). A failed verification is still a 200: the answer is the finding. ' +
      'Reads only; no Idempotency-Key needed. Roles: auditor, admin.',
  })
  @ApiZodBody(verifyBodySchema)
  @ApiOkResponse({ description: '{ ok, recordCount | recordsChecked, failure?: { position, reason, message }, headPosition, checkpointsVerified, … }' })
  @ApiTooManyRequestsResponse({ description: 'A verification is already running on this instance' })
  verify(@Body(new ZodPipe(verifyBodySchema.optional())) body: VerifyBody | undefined) {
    return this.verification.verify({ includeSink: body?.includeSink ?? false });
  }
}
