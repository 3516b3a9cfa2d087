import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { CONFIG, LOGGER, Readiness } from '@tessera/platform';
import { RECOVERY_WORKFLOWS_PATH } from '@tessera/recovery-workflows';
import type { Logger } from 'pino';
import type { RecoveryOrchestratorConfig } from '../service';

let runtimeInstalled = false;

/**
 * Runs the recovery worker inside the service: it starts with the service, counts in readiness
 * (the worker is running and the Temporal frontend answers) and drains on shutdown.
 */
@Injectable()
export class TemporalWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: Worker;
  private running?: Promise<void>;
  private client?: Connection;

  constructor(
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Readiness) private readonly readiness: Readiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!runtimeInstalled) {
      // The SDK's core logs through the service's JSON logger, warnings and up only.
      Runtime.install({
        logger: {
          log: (level, message, meta) => this.logger[level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : 'debug']({ temporal: meta }, message),
          trace: () => undefined, debug: () => undefined, info: (m, meta) => this.logger.debug({ temporal: meta }, m),
          warn: (m, meta) => this.logger.warn({ temporal: meta }, m), error: (m, meta) => this.logger.error({ temporal: meta }, m),
        },
        telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
      });
      runtimeInstalled = true;
    }
    const address = this.config.TEMPORAL_ADDRESS;
    const connection = await NativeConnection.connect({ address });
    this.client = await Connection.connect({ address });
    this.worker = await Worker.create({
      connection,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      workflowsPath: RECOVERY_WORKFLOWS_PATH,
      activities: {},
      shutdownGraceTime: '10s',
    });
    this.running = this.worker.run().catch((error: unknown) => this.logger.error({ err: error }, 'temporal worker stopped with an error'));
    this.readiness.register({
      name: 'temporal',
      check: async () => {
        const state = this.worker?.getState();
        if (state !== 'RUNNING') throw new Error(`worker is ${state ?? 'not created'}`);
        await this.client?.withDeadline(Date.now() + 1_500, () => this.client!.workflowService.getSystemInfo({}));
      },
    });
    this.logger.info({ address, namespace: this.config.TEMPORAL_NAMESPACE, taskQueue: this.config.TEMPORAL_TASK_QUEUE }, 'temporal worker running');
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
    await this.client?.close();
  }
}
