import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@tessera/platform';
import { StepUpService } from './step-up.service';

@ApiTags('step-up')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(StepUpService) private readonly stepUp: StepUpService) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public keys (RFC 7517) that verify step-up assertions offline' })
  @ApiOkResponse({ description: 'A JWKS document of ES256 public keys; the current key first.' })
  jwks() {
    return this.stepUp.jwks();
  }
}
