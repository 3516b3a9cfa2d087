// The workflow bundle's entry point: every workflow type the recovery worker runs.
export { recoveryWorkflow } from './lib/recovery.workflow';
export { incidentWorkflow } from './lib/incident.workflow';
export { drillWorkflow } from './lib/drill.workflow';
