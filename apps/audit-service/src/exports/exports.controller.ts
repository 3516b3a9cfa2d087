import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiZodQuery, CurrentPrincipal, LOGGER, type Principal, RequireRoles, ZodPipe } from '@tessera/platform';
import type { Response } from 'express';
import type { Logger } from 'pino';
import {
  type DataSubjectExportQuery,
  type ExportQuery,
  REPORT_KINDS,
  type ReportKind,
  type ReportQuery,
  dataSubjectExportQuerySchema,
  exportQuerySchema,
  reportKindSchema,
  reportQuerySchema,
} from '../common/query-schemas';
import { streamText } from '../common/streaming';
import { toCsv } from './csv';
import { ExportService } from './export.service';
import { ReportService } from './report.service';

const CONTENT_TYPES = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

function stamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

@ApiTags('audit exports')
@ApiBearerAuth()
@Controller('v1/audit')
export class ExportsController {
  constructor(
    @Inject(ExportService) private readonly exports: ExportService,
    @Inject(ReportService) private readonly reports: ReportService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('exports/records')
  @RequireRoles('auditor')
  @ApiOperation({
    summary: 'Export the records of a period or a range of positions (NDJSON or CSV)',
    description:
      'Records with occurredAt in [from, to) (at most 366 days), or positions [fromPosition, toPosition], in position order. ' +
      'NDJSON lines are {"record": <stored record as hashed>, "view": <readable record>}: a range of positions starting at 1 or right after a checkpoint ' +
      'verifies away from the service with GET /v1/audit/exports/checkpoints and the public key. CSV carries the readable record. Role: auditor.',
  })
  @ApiZodQuery(exportQuerySchema)
  @ApiProduces(CONTENT_TYPES.ndjson, CONTENT_TYPES.csv)
  @ApiOkResponse({ description: 'The export, streamed' })
  async records(@Query(new ZodPipe(exportQuerySchema)) query: ExportQuery, @Res() response: Response): Promise<void> {
    const range = query.from && query.to ? `${stamp(query.from)}-${stamp(query.to)}` : `${query.fromPosition}-${query.toPosition}`;
    await streamText(response, this.logger, { contentType: CONTENT_TYPES[query.format], filename: `audit-records-${range}.${query.format}` }, await this.exports.records(query));
  }

  @Get('exports/data-subject')
  @RequireRoles('auditor', 'admin')
  @ApiOperation({
    summary: "Export one person's records (data-subject access)",
    description:
      'Every record about the person and every record of their actions as staff, NDJSON or CSV. The export is itself recorded in the log (AuditDataSubjectExported) ' +
      'before any record is sent. After an erasure nothing links the person to their old records any more. Roles: auditor, admin.',
  })
  @ApiZodQuery(dataSubjectExportQuerySchema)
  @ApiProduces(CONTENT_TYPES.ndjson, CONTENT_TYPES.csv)
  async dataSubject(@Query(new ZodPipe(dataSubjectExportQuerySchema)) query: DataSubjectExportQuery, @CurrentPrincipal() principal: Principal, @Res() response: Response): Promise<void> {
    const lines = await this.exports.dataSubject(query, principal);
    await streamText(response, this.logger, { contentType: CONTENT_TYPES[query.format], filename: `audit-data-subject.${query.format}` }, lines);
  }

  @Get('exports/checkpoints')
  @RequireRoles('auditor', 'admin')
  @ApiOperation({ summary: 'Every signed checkpoint (NDJSON)', description: 'Ed25519-signed checkpoints (RFC 8032), for verifying an export elsewhere. Roles: auditor, admin.' })
  @ApiProduces(CONTENT_TYPES.ndjson)
  async checkpoints(@Res() response: Response): Promise<void> {
    await streamText(response, this.logger, { contentType: CONTENT_TYPES.ndjson, filename: 'audit-checkpoints.ndjson' }, this.exports.checkpoints());
  }

  @Get('reports/:kind')
  @RequireRoles('auditor')
  @ApiOperation({
    summary: 'Compliance reports over a period',
    description:
      'recoveries (approvers, evidence, durations), admin-actions, factor-changes, failed-verification-spikes (windowMinutes, threshold). JSON or CSV. ' +
      'A period holding more than 50,000 relevant records is refused with 422 report_too_large. Role: auditor.',
  })
  @ApiParam({ name: 'kind', enum: REPORT_KINDS })
  @ApiZodQuery(reportQuerySchema)
  @ApiProduces('application/json', CONTENT_TYPES.csv)
  async report(@Param('kind', new ZodPipe(reportKindSchema)) kind: ReportKind, @Query(new ZodPipe(reportQuerySchema)) query: ReportQuery, @Res() response: Response): Promise<void> {
    const report = await this.reports.report(kind, query);
    if (query.format === 'json') {
      response.status(200).json(report);
      return;
    }
    response.status(200).setHeader('content-type', CONTENT_TYPES.csv).setHeader('content-disposition', `attachment; filename="audit-report-${kind}.csv"`);
    response.send(toCsv(report.rows as Record<string, unknown>[]));
  }
}
