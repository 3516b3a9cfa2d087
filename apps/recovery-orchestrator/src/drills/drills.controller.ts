import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Client } from '@temporalio/client';
import { CONFIG, DATA_SOURCE, RequireRoles } from '@tessera/platform';
import { DRILL_SCHEDULE_ID, drillWorkflowId } from '@tessera/recovery-workflows';
import { uuidv7 } from '@tessera/util';
import type { DataSource } from 'typeorm';
import { ApiErrors } from '../recoveries/openapi';
import type { RecoveryOrchestratorConfig } from '../service';
import { TEMPORAL_CLIENT } from '../temporal/temporal.tokens';

@ApiTags('drills')
@Controller('v1/drills')
export class DrillsController {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
  ) {}

  @Get()
  @RequireRoles('security-officer', 'auditor', 'admin')
  @ApiOperation({ summary: 'Recovery drills and their outcomes, newest first (the schedule is ' + DRILL_SCHEDULE_ID + ')' })
  @ApiErrors(403)
  async list() {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT drill_id AS "drillId", recovery_id AS "recoveryId", user_id AS "userId", outcome, reason, policy_version AS "policyVersion",
              started_at AS "startedAt", finished_at AS "finishedAt", duration_ms::int AS "durationMs"
         FROM drills ORDER BY finished_at DESC LIMIT 100`,
    );
    return { drills: rows };
  }

  @Post()
  @HttpCode(202)
  @RequireRoles('security-officer')
  @ApiOperation({ summary: 'Run a recovery drill now (a synthetic assisted recovery with shortened timers)' })
  @ApiErrors(403, 409, 503)
  async run() {
    const drillId = uuidv7();
    await this.temporal.workflow.start('drillWorkflow', {
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      workflowId: drillWorkflowId(drillId),
      args: [{ drillId }],
    });
    return { drillId, workflowId: drillWorkflowId(drillId) };
  }
}
