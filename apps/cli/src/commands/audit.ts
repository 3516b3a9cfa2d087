import { type Command, CliError } from '../command';
import { callService } from '../http';

interface VerifyResult {
  readonly ok: boolean;
  readonly recordCount?: number;
  readonly firstPosition?: number | null;
  readonly lastPosition?: number | null;
  readonly checkpointsVerified?: number;
  readonly lastCheckpointPosition?: number | null;
  readonly recordsAfterLastCheckpoint?: number;
  readonly recordsChecked?: number;
  readonly failure?: { readonly position: number; readonly reason: string; readonly message: string };
}

interface RecordPage {
  readonly records: readonly {
    readonly position: number;
    readonly occurredAt: string;
    readonly eventType: string;
    readonly outcome: string;
    readonly actor: { readonly kind: string; readonly id: unknown };
    readonly correlationId: string;
  }[];
  readonly nextCursor: string | null;
}

const RECORD_FILTERS = {
  'user-id': 'userId',
  'actor-id': 'actorId',
  'event-type': 'eventType',
  'correlation-id': 'correlationId',
  category: 'category',
  outcome: 'outcome',
  from: 'from',
  to: 'to',
  order: 'order',
  limit: 'limit',
  cursor: 'cursor',
} as const;

function describeVerified(result: VerifyResult): string {
  if (result.recordCount === 0) return 'audit log verified: it is empty';
  return [
    `audit log verified: ${result.recordCount} records (positions ${result.firstPosition}..${result.lastPosition}), ${result.checkpointsVerified} signed checkpoints`,
    `${result.recordsAfterLastCheckpoint} records after the last checkpoint (${result.lastCheckpointPosition ?? 'none'}) rest on the hash chain alone until the next one`,
  ].join('\n');
}

function actorText(id: unknown): string {
  if (typeof id === 'string') return id;
  return id === null ? '-' : '(erased)';
}

/** `tessera audit …`: the auditor's view of the tamper-evident log (audit-service). */
export const auditCommands: readonly Command[] = [
  {
    path: ['audit', 'verify'],
    summary: 'Verify the audit hash chain and its signed checkpoints; names the first bad position (exit 1)',
    options: { 'with-sink': { type: 'boolean', default: false } },
    async run(context, { values }) {
      const result = (await callService(context.env, 'audit', 'POST', '/v1/audit/verify', { body: { includeSink: values['with-sink'] === true } })) as VerifyResult;
      if (result.ok) {
        context.print(result, describeVerified);
        return;
      }
      if (context.json) context.print(result);
      const failure = result.failure ?? { position: 0, reason: 'unknown', message: 'the service gave no details' };
      throw new CliError('chain_broken', `first bad position ${failure.position} (${failure.reason}): ${failure.message}`);
    },
  },
  {
    path: ['audit', 'records'],
    summary: 'Query audit records (by user, actor, event type, correlation id, time range)',
    options: Object.fromEntries(Object.keys(RECORD_FILTERS).map((name) => [name, { type: 'string' as const }])),
    async run(context, { values, positionals }) {
      if (positionals.length > 0) throw new CliError('usage', `unexpected argument '${positionals[0]}'`, 2);
      const query = new URLSearchParams();
      for (const [option, parameter] of Object.entries(RECORD_FILTERS)) {
        const value = values[option];
        if (typeof value === 'string') query.set(parameter, value);
      }
      const page = (await callService(context.env, 'audit', 'GET', `/v1/audit/records${query.size > 0 ? `?${query}` : ''}`)) as RecordPage;
      context.print(page, (result: RecordPage) =>
        [
          ...result.records.map((r) => `${String(r.position).padStart(8)}  ${r.occurredAt}  ${r.eventType.padEnd(32)} ${r.outcome.padEnd(9)} ${r.actor.kind}:${actorText(r.actor.id)}  ${r.correlationId}`),
          result.nextCursor ? `more: --cursor ${result.nextCursor}` : `${result.records.length} record(s)`,
        ].join('\n'),
      );
    },
  },
];
