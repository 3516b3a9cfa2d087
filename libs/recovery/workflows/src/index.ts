import { join } from 'node:path';

export * from './lib/recovery.messages';
export * from './lib/recovery.activities';

/** The task queue the recovery worker polls. */
export const RECOVERY_TASK_QUEUE = 'tessera-recovery';

/** The file the worker bundles (workflow code runs in Temporal's deterministic sandbox). */
export const RECOVERY_WORKFLOWS_PATH = join(__dirname, 'workflows.ts');

/** Recorded histories of every workflow type, replayed in CI against the current code (R4). */
export const RECOVERY_HISTORIES_DIR = join(__dirname, 'histories');

/** The Temporal Schedule that runs recovery drills. */
export const DRILL_SCHEDULE_ID = 'tessera-recovery-drill';
