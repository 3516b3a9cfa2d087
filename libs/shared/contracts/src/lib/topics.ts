/**
 * Every Kafka topic Tessera uses, declared once. `infra/local/platform` creates them idempotently
 * (infra/local/scripts/kafka-admin.ts) and the services read their names from here.
 *
 * Keys are user ids, so one user's events stay in order on one partition (DESIGN.md "Events").
 * Retention: events are also kept in each service's event store, so the topics hold them long enough
 * for a consumer that was down for a while to catch up, not forever.
 */
export interface TopicDeclaration {
  readonly name: string;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
  readonly description: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const TOPICS = {
  auth: 'tessera.auth.v1',
  devices: 'tessera.devices.v1',
  recovery: 'tessera.recovery.v1',
  deadLetter: 'tessera.dead-letter.v1',
  auditCheckpoints: 'tessera.audit.checkpoints.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** The topics that carry domain events (the audit service ingests all of them). */
export const EVENT_TOPICS: readonly TopicName[] = [TOPICS.auth, TOPICS.devices, TOPICS.recovery];

export const TOPIC_DECLARATIONS: readonly TopicDeclaration[] = [
  {
    name: TOPICS.auth,
    partitions: 6,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(14 * DAY_MS), 'min.insync.replicas': '1' },
    description: 'auth-service events: factor lifecycle, verifications, throttling',
  },
  {
    name: TOPICS.devices,
    partitions: 6,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(14 * DAY_MS), 'min.insync.replicas': '1' },
    description: 'device-registry events: devices, readiness, vault',
  },
  {
    name: TOPICS.recovery,
    partitions: 6,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(14 * DAY_MS), 'min.insync.replicas': '1' },
    description: 'recovery-orchestrator events: recoveries, incidents, drills',
  },
  {
    name: TOPICS.deadLetter,
    partitions: 3,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
    description: 'messages a consumer could not parse or handle, with the reason and the original bytes',
  },
  {
    // Keyed by checkpoint sequence; compaction keeps the newest signed checkpoint per key forever,
    // so an auditor can always fetch every checkpoint even after the segment retention of other topics.
    name: TOPICS.auditCheckpoints,
    partitions: 1,
    config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(DAY_MS) },
    description: 'signed audit-log checkpoints, exported to a sink apart from the audit database',
  },
];
