import { join } from 'node:path';

export * from './lib/cooling-off.workflow';

/** The task queue the recovery worker polls. */
export const RECOVERY_TASK_QUEUE = 'tessera-recovery';

/** The file the worker bundles (workflow code runs in Temporal's deterministic sandbox). */
export const RECOVERY_WORKFLOWS_PATH = join(__dirname, 'workflows.ts');
