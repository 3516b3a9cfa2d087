import { Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { Idempotent } from '@tessera/event-store';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DATA_SOURCE, LOGGER, RequireRoles } from '@tessera/platform';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { ApiErrors } from '../common/openapi';
import { AUTH_KEYS } from '../common/tokens';
import type { AuthKeys } from '../config/auth-keys';
import { SecretBox } from '../credentials/secret-box';
import { rewrapAll } from './rewrap';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/key-rotation')
export class KeyRotationController {
  constructor(
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(AUTH_KEYS) private readonly keys: AuthKeys,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @HttpCode(200)
  @Idempotent()
  @RequireRoles('admin')
  @ApiOperation({
    summary: 'Re-wrap every stored secret under the current key-encryption key (S28), while the service runs',
    description: 'Run after making a new key current on every instance; remove the old key once nothing needs rewrapping.',
  })
  @ApiOkResponse({ description: '{ currentKeyId, examined, rewrapped, skipped, keyIds }' })
  @ApiErrors(403)
  async rotate() {
    const report = await rewrapAll(this.dataSource, this.box.cipher, await this.keys.keyRing.currentKeyId());
    this.logger.info({ rewrap: report }, 'secrets re-wrapped under the current key');
    return { ...report, keyIds: this.keys.keyRing.keyIds() };
  }
}
