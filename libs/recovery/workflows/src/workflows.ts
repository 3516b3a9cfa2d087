// The workflow bundle's entry point: every workflow type the recovery worker runs.
export { coolingOffWorkflow } from './lib/cooling-off.workflow';
