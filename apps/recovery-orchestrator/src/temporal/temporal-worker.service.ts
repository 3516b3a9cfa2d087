import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { CONFIG, LOGGER, Readiness } from '@tessera/platform';
import { type RecoveryActivities, RECOVERY_WORKFLOWS_PATH } from '@tessera/recovery-workflows';
import type { Logger } from 'pino';
import type { RecoveryOrchestratorConfig } from '../service';
import { RECOVERY_ACTIVITIES, TEMPORAL_CLIENT, TEMPORAL_DATA_CONVERTER } from './temporal.tokens';

let runtimeInstalled = false;

/** The SDK's core logs through the service's JSON logger, warnings and up only (once per process). */
export function installTemporalRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  Runtime.install({
    logger: {
      log: (level, message, meta) => logger[level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : 'debug']({ temporal: meta }, message),
      trace: () => undefined,
      debug: () => undefined,
      info: (m, meta) => logger.debug({ temporal: meta }, m),
      warn: (m, meta) => logger.warn({ temporal: meta }, m),
      error: (m, meta) => logger.error({ temporal: meta }, m),
    },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  runtimeInstalled = true;
}

/**
 * Runs the recovery worker inside the service: it starts with the service, counts in readiness
 * (the worker is running and the Temporal frontend answers) and drains on shutdown.
 */
@Injectable()
export class TemporalWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker?: Worker;
  private running?: Promise<void>;
  private connection?: NativeConnection;

  constructor(
    @Inject(CONFIG) private readonly config: RecoveryOrchestratorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(RECOVERY_ACTIVITIES) private readonly activities: RecoveryActivities,
    @Inject(TEMPORAL_DATA_CONVERTER) private readonly dataConverter: DataConverter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    installTemporalRuntime(this.logger);
    const address = this.config.TEMPORAL_ADDRESS;
    this.connection = await NativeConnection.connect({ address });
    this.worker = await Worker.create({
      connection: this.connection,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      workflowsPath: RECOVERY_WORKFLOWS_PATH,
      activities: this.activities,
      dataConverter: this.dataConverter,
      shutdownGraceTime: '10s',
    });
    this.running = this.worker.run().catch((error: unknown) => this.logger.error({ err: error }, 'temporal worker stopped with an error'));
    this.readiness.register({
      name: 'temporal',
      check: async () => {
        const state = this.worker?.getState();
        if (state !== 'RUNNING') throw new Error(`worker is ${state ?? 'not created'}`);
        await this.client.connection.withDeadline(Date.now() + 1_500, () => this.client.connection.workflowService.getSystemInfo({}));
      },
    });
    this.logger.info({ address, namespace: this.config.TEMPORAL_NAMESPACE, taskQueue: this.config.TEMPORAL_TASK_QUEUE }, 'temporal worker running');
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.worker && this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
    await this.connection?.close();
    await this.client.connection.close();
  }
}
