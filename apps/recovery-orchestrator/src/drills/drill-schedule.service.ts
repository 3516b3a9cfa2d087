import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { CONFIG, LOGGER } from '@tessera/platform';
import { drillWorkflowId } from '@tessera/recovery-workflows';
import type { Logger } from 'pino';
import type { RecoveryOrchestratorConfig } from '../service';
import { TEMPORAL_CLIENT } from '../temporal/temporal.tokens';

/**
 * The Temporal Schedule that runs a recovery drill at every DRILL_INTERVAL (the periodic test of
 * recovery a disaster-recovery plan asks for). A drill still running when the next is due is not
 * doubled (overlap SKIP). Created at start-up when drills are configured; left alone if it exists.
 */
@Injectable()
export class DrillScheduleService implements OnApplicationBootstrap {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.DRILL_USER_ID || !this.config.DRILL_INTERVAL) return;
    try {
      await this.temporal.schedule.create({
        scheduleId: this.config.DRILL_SCHEDULE_ID,
        spec: { intervals: [{ every: this.config.DRILL_INTERVAL }] },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
        action: { type: 'startWorkflow', workflowType: 'drillWorkflow', taskQueue: this.config.TEMPORAL_TASK_QUEUE, workflowId: drillWorkflowId('scheduled'), args: [{}] },
        memo: { purpose: 'recovery drill: a synthetic assisted recovery, end to end, with shortened timers' },
      });
      this.logger.info({ scheduleId: this.config.DRILL_SCHEDULE_ID, every: this.config.DRILL_INTERVAL }, 'recovery drill schedule created');
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) this.logger.error({ err: error }, 'could not create the recovery drill schedule');
    }
  }
}
