// The workflow bundle's entry point: every workflow type the recovery worker runs.
export { recoveryWorkflow } from './lib/recovery.workflow';
export { incidentWorkflow } from './lib/incident.workflow';
export { drillWorkflow } from './lib/drill.workflow';
// The bare durable wait the platform's Temporal tests exercise (apps/e2e).
export { coolingOffWorkflow } from './lib/cooling-off.workflow';
