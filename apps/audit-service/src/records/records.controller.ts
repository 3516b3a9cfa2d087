import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiZodQuery, RequireRoles, ZodPipe, openApiSchema } from '@tessera/platform';
import { type RecordsQuery, recordsQuerySchema } from '../common/query-schemas';
import { recordPageSchema } from './record.view';
import { RecordsService } from './records.service';

@ApiTags('audit records')
@ApiBearerAuth()
@Controller('v1/audit/records')
export class RecordsController {
  constructor(@Inject(RecordsService) private readonly records: RecordsService) {}

  @Get()
  @RequireRoles('auditor')
  @ApiOperation({
    summary: 'Query the audit log',
    description:
      'Records by user (the subject), actor, event type, category, outcome, correlation id and time range (occurredAt, from inclusive, to exclusive), combined with AND, ' +
      'in position order. Pass `nextCursor` back as `cursor` for the next page. Personal fields are opened with the subject\'s key; after an erasure they read {"erased": true}. Role: auditor.',
  })
  @ApiZodQuery(recordsQuerySchema)
  @ApiOkResponse({ description: 'A page of records', schema: openApiSchema(recordPageSchema) as never })
  @ApiForbiddenResponse({ description: 'Not an auditor' })
  list(@Query(new ZodPipe(recordsQuerySchema)) query: RecordsQuery) {
    return this.records.list(query);
  }
}
