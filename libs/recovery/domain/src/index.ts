// The recovery domain: pure rules for recovery policies, recoveries, incidents and drills.
// Workflows wait and call activities; everything they decide comes from here.
export * from './lib/policy/duration';
export * from './lib/policy/policy.schema';
export * from './lib/policy/policy';
export * from './lib/policy/default-policy';
export * from './lib/recovery/recovery.state';
export * from './lib/recovery/recovery.commands';
export * from './lib/recovery/recovery.decide';
export * from './lib/recovery/recovery.deadlines';
export * from './lib/recovery/recovery.start-response';
export * from './lib/incident/incident.state';
export * from './lib/incident/incident.decide';
export * from './lib/drill/drill';
