import { randomUUID } from 'node:crypto';
import { type Command, type CommandContext, CliError, type ParsedArgs } from '../command';
import { callService } from '../http';

/**
 * `tessera recovery …`: the security team's and helpdesk's recovery and incident commands, and the
 * end user's "my recoveries" and cancel (recovery-orchestrator's REST API). Every mutating command
 * sends an Idempotency-Key (random, or --idempotency-key to retry safely).
 */

const text = (args: ParsedArgs, name: string, required = true): string | undefined => {
  const value = args.values[name];
  if (value === undefined || value === '') {
    if (required) throw new CliError('usage', `--${name} is required`, 2);
    return undefined;
  }
  if (typeof value !== 'string') throw new CliError('usage', `--${name} takes a value`, 2);
  return value;
};
const list = (args: ParsedArgs, name: string): string[] => (text(args, name, false) ?? '').split(',').map((item) => item.trim()).filter(Boolean);
const positional = (args: ParsedArgs, what: string): string => {
  const [value, ...rest] = args.positionals;
  if (!value) throw new CliError('usage', `${what} is required`, 2);
  if (rest.length > 0) throw new CliError('usage', `unexpected argument '${rest[0]}'`, 2);
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/.test(value)) throw new CliError('usage', `${what} '${value}' is not a valid id`, 2);
  return encodeURIComponent(value);
};
const key = (args: ParsedArgs): string => text(args, 'idempotency-key', false) ?? randomUUID();
const noPositionals = (args: ParsedArgs) => {
  if (args.positionals.length > 0) throw new CliError('usage', `unexpected argument '${args.positionals[0]}'`, 2);
};

const KEY_OPTION = { 'idempotency-key': { type: 'string' } } as const;

interface RecoveryOut {
  recoveryId: string;
  userId: string;
  kind: string;
  state: string;
  approvals?: number;
  requiredApprovals?: number;
  waitingFor?: string | null;
  waitingUntil?: string | null;
}

const line = (r: RecoveryOut) =>
  `${r.recoveryId}  ${r.userId}  ${r.kind}  ${r.state}${r.requiredApprovals ? `  approvals ${r.approvals}/${r.requiredApprovals}` : ''}${r.waitingFor ? `  waiting for ${r.waitingFor}${r.waitingUntil ? ` until ${r.waitingUntil}` : ''}` : ''}`;

const printRecovery = (context: CommandContext, result: unknown) => context.print(result, (r: RecoveryOut) => line(r));

function post(context: CommandContext, path: string, body: unknown, args: ParsedArgs, method = 'POST') {
  return callService(context.env, 'recovery', method, path, { body, idempotencyKey: key(args) });
}

export const recoveryCommands: readonly Command[] = [
  {
    path: ['recovery', 'start'],
    summary: 'Start an assisted (or break-glass) recovery for a user, on a ticket',
    options: {
      user: { type: 'string' },
      reason: { type: 'string' },
      ticket: { type: 'string' },
      kind: { type: 'string', default: 'assisted' },
      risk: { type: 'string' },
      lost: { type: 'string' },
      groups: { type: 'string' },
      ...KEY_OPTION,
    },
    async run(context, args) {
      noPositionals(args);
      const kind = text(args, 'kind');
      if (kind !== 'assisted' && kind !== 'break-glass') throw new CliError('usage', '--kind is assisted or break-glass', 2);
      const body = {
        userId: text(args, 'user'),
        reason: text(args, 'reason'),
        ticketReference: text(args, 'ticket', false),
        kind,
        riskSignals: list(args, 'risk'),
        lostFactorIds: list(args, 'lost'),
        subjectGroups: list(args, 'groups'),
      };
      printRecovery(context, await post(context, '/v1/recoveries', body, args));
    },
  },
  {
    path: ['recovery', 'list'],
    summary: 'List recoveries (--state <state|active> --user <id> --kind <kind>)',
    options: { state: { type: 'string' }, user: { type: 'string' }, kind: { type: 'string' }, limit: { type: 'string' } },
    async run(context, args) {
      noPositionals(args);
      const query = new URLSearchParams();
      for (const [option, param] of [['state', 'state'], ['user', 'userId'], ['kind', 'kind'], ['limit', 'limit']] as const) {
        const value = text(args, option, false);
        if (value) query.set(param, value);
      }
      const result = (await callService(context.env, 'recovery', 'GET', `/v1/recoveries${query.size ? `?${query}` : ''}`)) as { recoveries: RecoveryOut[] };
      context.print(result, (r: { recoveries: RecoveryOut[] }) => (r.recoveries.length ? r.recoveries.map((item) => line({ ...item, waitingFor: null })).join('\n') : 'no recoveries'));
    },
  },
  {
    path: ['recovery', 'mine'],
    summary: "A user's own recoveries (--user <id>, default: the token's subject is checked by the service)",
    options: { user: { type: 'string' } },
    async run(context, args) {
      noPositionals(args);
      const user = encodeURIComponent(text(args, 'user') as string);
      const result = await callService(context.env, 'recovery', 'GET', `/v1/users/${user}/recoveries`);
      context.print(result, (r: { recoveries: RecoveryOut[] }) => (r.recoveries.length ? r.recoveries.map(line).join('\n') : 'no recoveries'));
    },
  },
  {
    path: ['recovery', 'show'],
    summary: 'Show a recovery and its timeline',
    positionals: ['<recovery-id>'],
    async run(context, args) {
      const id = positional(args, '<recovery-id>');
      const result = await callService(context.env, 'recovery', 'GET', `/v1/recoveries/${id}`);
      context.print(result, (r: RecoveryOut & { timeline: { type: string; at: string; actor?: { kind: string; id: string } }[] }) =>
        [line(r), ...r.timeline.map((entry) => `  ${entry.at}  ${entry.type}${entry.actor ? `  by ${entry.actor.kind}:${entry.actor.id}` : ''}`)].join('\n'),
      );
    },
  },
  {
    path: ['recovery', 'evidence'],
    summary: 'Record identity evidence: your attestation (--reference --outcome passed|failed) or an IdV check (--idv --reference)',
    positionals: ['<recovery-id>'],
    options: { reference: { type: 'string' }, outcome: { type: 'string', default: 'passed' }, idv: { type: 'boolean' }, ...KEY_OPTION },
    async run(context, args) {
      const id = positional(args, '<recovery-id>');
      const reference = text(args, 'reference');
      const outcome = text(args, 'outcome');
      if (outcome !== 'passed' && outcome !== 'failed') throw new CliError('usage', '--outcome is passed or failed', 2);
      const body = args.values.idv === true ? { kind: 'idv-webhook', reference } : { kind: 'helpdesk-attestation', reference, outcome };
      printRecovery(context, await post(context, `/v1/recoveries/${id}/evidence`, body, args));
    },
  },
  ...(['approve', 'reject'] as const).map(
    (verb): Command => ({
      path: ['recovery', verb],
      summary: `${verb === 'approve' ? 'Approve' : 'Reject'} a recovery with a reason (security officers)`,
      positionals: ['<recovery-id>'],
      options: { reason: { type: 'string' }, ...KEY_OPTION },
      async run(context, args) {
        const id = positional(args, '<recovery-id>');
        printRecovery(context, await post(context, `/v1/recoveries/${id}/${verb}`, { reason: text(args, 'reason') }, args));
      },
    }),
  ),
  {
    path: ['recovery', 'cancel'],
    summary: 'Cancel your own recovery, proving a remaining factor (--method totp|backup_code|… --code <code>)',
    positionals: ['<recovery-id>'],
    options: { method: { type: 'string', default: 'totp' }, code: { type: 'string' }, ...KEY_OPTION },
    async run(context, args) {
      const id = positional(args, '<recovery-id>');
      const method = text(args, 'method') as string;
      if (!['totp', 'backup_code', 'email_otp', 'sms_otp'].includes(method)) throw new CliError('usage', '--method is totp, backup_code, email_otp or sms_otp (passkeys cancel in the browser)', 2);
      printRecovery(context, await post(context, `/v1/recoveries/${id}/cancel`, { method, proof: { code: text(args, 'code') } }, args));
    },
  },
  {
    path: ['recovery', 'review'],
    summary: 'Close the post-incident review of an ended break-glass recovery (--findings <reference>)',
    positionals: ['<recovery-id>'],
    options: { findings: { type: 'string' }, ...KEY_OPTION },
    async run(context, args) {
      const id = positional(args, '<recovery-id>');
      printRecovery(context, await post(context, `/v1/recoveries/${id}/review`, { findingsReference: text(args, 'findings') }, args));
    },
  },
  {
    path: ['recovery', 'freeze'],
    summary: 'Compromise suspected: freeze an account (--user --reason [--devices d1,d2])',
    options: { user: { type: 'string' }, reason: { type: 'string' }, devices: { type: 'string' }, ...KEY_OPTION },
    async run(context, args) {
      noPositionals(args);
      const user = encodeURIComponent(text(args, 'user') as string);
      const result = await post(context, `/v1/users/${user}/freeze`, { reason: text(args, 'reason'), deviceIds: list(args, 'devices') }, args);
      context.print(result, (r: { incidentId: string; userId: string; status: string }) => `${r.incidentId}  ${r.userId}  ${r.status}`);
    },
  },
  {
    path: ['recovery', 'unfreeze'],
    summary: 'Unfreeze an account, deciding its incident (--user --reason)',
    options: { user: { type: 'string' }, reason: { type: 'string' }, ...KEY_OPTION },
    async run(context, args) {
      noPositionals(args);
      const user = encodeURIComponent(text(args, 'user') as string);
      const result = await post(context, `/v1/users/${user}/freeze`, { reason: text(args, 'reason') }, args, 'DELETE');
      context.print(result, (r: { incidentId: string; status: string }) => `${r.incidentId}  ${r.status}`);
    },
  },
  {
    path: ['recovery', 'incidents'],
    summary: 'List incidents (--status open|frozen|recovery-forced|unfrozen --user <id>)',
    options: { status: { type: 'string' }, user: { type: 'string' } },
    async run(context, args) {
      noPositionals(args);
      const query = new URLSearchParams();
      const status = text(args, 'status', false);
      const user = text(args, 'user', false);
      if (status) query.set('status', status);
      if (user) query.set('userId', user);
      const result = await callService(context.env, 'recovery', 'GET', `/v1/incidents${query.size ? `?${query}` : ''}`);
      context.print(result, (r: { incidents: { incidentId: string; userId: string; status: string; source: string }[] }) =>
        r.incidents.length ? r.incidents.map((i) => `${i.incidentId}  ${i.userId}  ${i.status}  ${i.source}`).join('\n') : 'no incidents',
      );
    },
  },
  {
    path: ['recovery', 'decide'],
    summary: 'Decide an incident: --decision unfreeze|force-recovery --reason [--ticket for a forced recovery]',
    positionals: ['<incident-id>'],
    options: { decision: { type: 'string' }, reason: { type: 'string' }, ticket: { type: 'string' }, lost: { type: 'string' }, ...KEY_OPTION },
    async run(context, args) {
      const id = positional(args, '<incident-id>');
      const decision = text(args, 'decision');
      if (decision !== 'unfreeze' && decision !== 'force-recovery') throw new CliError('usage', '--decision is unfreeze or force-recovery', 2);
      const body =
        decision === 'unfreeze'
          ? { decision, reason: text(args, 'reason') }
          : { decision, reason: text(args, 'reason'), ticketReference: text(args, 'ticket'), lostFactorIds: list(args, 'lost') };
      const result = await post(context, `/v1/incidents/${id}/decision`, body, args);
      context.print(result, (r: { incidentId: string; status: string; forcedRecoveryId?: string | null }) => `${r.incidentId}  ${r.status}${r.forcedRecoveryId ? `  recovery ${r.forcedRecoveryId}` : ''}`);
    },
  },
  {
    path: ['recovery', 'drill'],
    summary: 'Run a recovery drill now (a synthetic assisted recovery with shortened timers)',
    async run(context, args) {
      noPositionals(args);
      const result = await callService(context.env, 'recovery', 'POST', '/v1/drills');
      context.print(result, (r: { drillId: string; workflowId: string }) => `drill ${r.drillId} started (${r.workflowId})`);
    },
  },
  {
    path: ['recovery', 'drills'],
    summary: 'Recovery drills and their outcomes',
    async run(context, args) {
      noPositionals(args);
      const result = await callService(context.env, 'recovery', 'GET', '/v1/drills');
      context.print(result, (r: { drills: { drillId: string; outcome: string; reason: string | null; durationMs: number; finishedAt: string }[] }) =>
        r.drills.length ? r.drills.map((d) => `${d.finishedAt}  ${d.drillId}  ${d.outcome}${d.reason ? ` (${d.reason})` : ''}  ${Math.round(d.durationMs / 1000)} s`).join('\n') : 'no drills yet',
      );
    },
  },
];
