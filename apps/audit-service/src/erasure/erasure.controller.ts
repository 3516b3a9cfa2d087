import { Body, Controller, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '@tessera/event-store';
import { ApiZodBody, CurrentPrincipal, type Principal, RequireRoles, ZodPipe } from '@tessera/platform';
import { type ErasureBody, erasureBodySchema } from '../common/query-schemas';
import { ErasureService } from './erasure.service';

@ApiTags('audit erasure')
@ApiBearerAuth()
@Controller('v1/audit/erasures')
export class ErasureController {
  constructor(@Inject(ErasureService) private readonly erasure: ErasureService) {}

  @Post()
  @RequireRoles('admin')
  @Idempotent()
  @ApiOperation({
    summary: "Erase a person's personal data from the audit log (crypto-shredding)",
    description:
      "Destroys the person's data key: every personal field sealed under it (their id, names, addresses, reasons) reads {\"erased\": true} from then on, " +
      'while records, hashes and checkpoints are untouched and the chain still verifies. The erasure is recorded by pseudonym, administrator and ticket. ' +
      'Staff ids in records of privileged actions stay, for accountability (ADR 0009). Irreversible. Role: admin.',
  })
  @ApiZodBody(erasureBodySchema)
  @ApiCreatedResponse({ description: '{ erased, subjectRef, destroyedAt, recordedAt } (without the user id, which is not kept)' })
  erase(@Body(new ZodPipe(erasureBodySchema)) body: ErasureBody, @CurrentPrincipal() principal: Principal) {
    return this.erasure.erase(body, principal);
  }
}
