import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type VaultEntry, decryptVault, encryptVault, vaultFromBase64 } from '@tessera/vault-client';
import { type Command, type CommandContext, CliError, type ParsedArgs } from '../command';
import { SERVICE_URLS } from '../http';
import {
  AUTHENTICATOR_PASSPHRASE_ENV,
  accountName,
  authenticatorFile,
  loadAccounts,
  passphrase,
  plainExport,
  readImport,
  saveAccounts,
  vaultFailure,
  writeSecretFile,
} from './authenticator';

/**
 * `tessera vault backup|restore|export|status`: the zero-knowledge authenticator backup (DESIGN.md
 * recovery ladder rung 3; S31). Accounts are encrypted here, with scrypt and AES-256-GCM under the
 * backup passphrase (libs/vault-client FORMAT.md), before anything is sent; device-registry only ever
 * holds the opaque blob. Downloading it back needs a fresh step-up from auth-service.
 */

const VAULT_PASSPHRASE_ENV = 'TESSERA_VAULT_PASSPHRASE';
const STEP_UP_ENV = 'TESSERA_STEP_UP_ASSERTION';
const DEFAULT_DEVICES_URL = 'http://127.0.0.1:3102';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Calls device-registry with the caller's token; a refusal becomes a CliError with the service's code. */
async function callDevices(
  context: CommandContext,
  method: string,
  path: string,
  options: { body?: Uint8Array | object; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const base = context.env[SERVICE_URLS.devices] ?? DEFAULT_DEVICES_URL;
  const token = bearer(context);
  const binary = options.body instanceof Uint8Array;
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.body === undefined ? {} : { 'content-type': binary ? 'application/octet-stream' : 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : binary ? Buffer.from(options.body as Uint8Array) : JSON.stringify(options.body),
    });
  } catch (error) {
    throw new CliError('unreachable', `device-registry at ${base} did not answer (${(error as Error).message}); is the platform up?`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const error = body.error as { code?: string; message?: string } | undefined;
    throw new CliError(error?.code ?? `http_${response.status}`, error?.message ?? `device-registry answered ${response.status}`);
  }
  return { status: response.status, body };
}

function bearer(context: CommandContext): string {
  const token = context.env.TESSERA_TOKEN;
  if (!token) throw new CliError('unauthenticated', 'no bearer token: set TESSERA_TOKEN (for local use: tessera dev token --subject <id>)');
  return token;
}

/** --user, else the subject of the caller's own token (the vault is the user's own). */
function userOf(context: CommandContext, values: ParsedArgs['values']): string {
  if (typeof values.user === 'string' && values.user.length > 0) return values.user;
  const payload = bearer(context).split('.')[1] ?? '';
  try {
    const subject = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    if (typeof subject === 'string' && subject.length > 0) return subject;
  } catch {
    // fall through to the usage error
  }
  throw new CliError('usage', '--user <id> is required (the token names no subject)', 2);
}

async function stepUpAssertion(context: CommandContext, values: ParsedArgs['values']): Promise<string> {
  const file = values['step-up-file'];
  if (typeof file === 'string') {
    try {
      return (await readFile(file, 'utf8')).trim();
    } catch {
      throw new CliError('unreadable_file', `cannot read the step-up assertion from ${file}`);
    }
  }
  const fromEnv = context.env[STEP_UP_ENV];
  if (fromEnv) return fromEnv;
  throw new CliError('step_up_required', `restoring needs a fresh step-up from auth-service (POST /v1/step-up): --step-up-file <file> or ${STEP_UP_ENV}`);
}

function noPositionals(args: ParsedArgs): void {
  // Not echoed: an argument given by mistake may be a secret (an otpauth URI, a passphrase).
  if (args.positionals.length > 0) throw new CliError('usage', 'this command takes no arguments, only options (secrets are read from files or stdin)', 2);
}

/** Downloads the current backup inside a step-up (recorded by device-registry as a restore) and decrypts it here. */
async function download(context: CommandContext, values: ParsedArgs['values']): Promise<{ entries: VaultEntry[]; backupId: string; version: number }> {
  const userId = userOf(context, values);
  const stepUp = await stepUpAssertion(context, values);
  const device = typeof values.device === 'string' ? { deviceId: values.device } : {};
  const { body } = await callDevices(context, 'POST', `/v1/users/${encodeURIComponent(userId)}/vault/restores`, {
    body: device,
    headers: { 'x-step-up-assertion': stepUp, 'idempotency-key': `cli-restore-${randomUUID()}` },
  });
  const secret = await passphrase(context, values, 'vault-passphrase-file', VAULT_PASSPHRASE_ENV, 'backup passphrase');
  try {
    const entries = await decryptVault(vaultFromBase64(String(body.blob)), secret);
    return { entries, backupId: String(body.backupId), version: Number(body.version) };
  } catch (error) {
    throw vaultFailure(error, 'the backup');
  }
}

/** Same type, secret and name: the same account (restoring twice adds nothing). */
function sameAccount(a: VaultEntry, b: VaultEntry): boolean {
  return a.type === b.type && a.secret === b.secret && a.issuer === b.issuer && a.label === b.label;
}

const common = {
  user: { type: 'string' },
  device: { type: 'string' },
  'vault-passphrase-file': { type: 'string' },
} as const;

export const vaultCommands: readonly Command[] = [
  {
    path: ['vault', 'backup'],
    summary: "Encrypt the authenticator's accounts (or --from <file> --format otpauth|aegis) here and store the blob in device-registry",
    options: {
      ...common,
      file: { type: 'string' },
      'passphrase-file': { type: 'string' },
      from: { type: 'string' },
      format: { type: 'string', default: 'otpauth' },
    },
    async run(context, args) {
      noPositionals(args);
      const { values } = args;
      const userId = userOf(context, values);
      let entries: VaultEntry[];
      if (typeof values.from === 'string') {
        ({ entries } = await readImport(values.from, String(values.format)));
      } else {
        const secret = await passphrase(context, values, 'passphrase-file', AUTHENTICATOR_PASSPHRASE_ENV, 'authenticator passphrase');
        entries = await loadAccounts(authenticatorFile(context.env, values), secret);
      }
      if (entries.length === 0) throw new CliError('no_accounts', 'nothing to back up: the authenticator has no accounts');
      const backupSecret = await passphrase(context, values, 'vault-passphrase-file', VAULT_PASSPHRASE_ENV, 'backup passphrase');
      let blob: Uint8Array;
      try {
        blob = await encryptVault(entries, backupSecret);
      } catch (error) {
        throw vaultFailure(error, 'the backup');
      }
      const query = typeof values.device === 'string' ? `?deviceId=${encodeURIComponent(values.device)}` : '';
      const { body } = await callDevices(context, 'PUT', `/v1/users/${encodeURIComponent(userId)}/vault${query}`, {
        body: blob,
        headers: { 'idempotency-key': `cli-backup-${randomUUID()}` },
      });
      const result = { backupId: body.backupId, version: body.version, accounts: entries.length, sizeBytes: body.sizeBytes };
      context.print(result, (r: typeof result) => `backed up ${r.accounts} account(s): backup ${r.backupId}, version ${r.version} (${r.sizeBytes} bytes, encrypted here)`);
    },
  },
  {
    path: ['vault', 'restore'],
    summary: 'Download the backup inside a fresh step-up, decrypt it here, and add its accounts to the authenticator (--replace to replace them)',
    options: {
      ...common,
      file: { type: 'string' },
      'passphrase-file': { type: 'string' },
      'step-up-file': { type: 'string' },
      replace: { type: 'boolean', default: false },
    },
    async run(context, args) {
      noPositionals(args);
      const { values } = args;
      // The local file is opened first: a wrong passphrase there must not spend the step-up and a restore.
      const path = authenticatorFile(context.env, values);
      const secret = await passphrase(context, values, 'passphrase-file', AUTHENTICATOR_PASSPHRASE_ENV, 'authenticator passphrase');
      const existing = values.replace === true ? [] : await loadAccounts(path, secret);
      const restored = await download(context, values);
      const added = restored.entries.filter((entry) => !existing.some((present) => sameAccount(present, entry)));
      await saveAccounts(path, secret, [...existing, ...added]);
      const result = { backupId: restored.backupId, version: restored.version, restored: restored.entries.length, added: added.map(accountName), file: path };
      context.print(result, (r: typeof result) =>
        `restored ${r.restored} account(s) from backup version ${r.version}; ${r.added.length} new in ${r.file}. ` +
        'Your other devices and e-mail will be told about this restore.',
      );
    },
  },
  {
    path: ['vault', 'export'],
    summary: 'Download and decrypt the backup, and write it IN CLEAR for another app: --format aegis|otpauth --out <file> [--force]',
    options: { ...common, 'step-up-file': { type: 'string' }, format: { type: 'string', default: 'aegis' }, out: { type: 'string' }, force: { type: 'boolean', default: false } },
    async run(context, args) {
      noPositionals(args);
      const { values } = args;
      const out = values.out;
      if (typeof out !== 'string') throw new CliError('usage', '--out <file> is required', 2);
      const format = String(values.format);
      if (format !== 'aegis' && format !== 'otpauth') throw new CliError('usage', `--format must be aegis or otpauth, not '${format}'`, 2);
      const { entries } = await download(context, values);
      await writeSecretFile(out, plainExport(entries, format), values.force === true);
      const result = { exported: entries.length, format, file: out };
      context.print(result, (r: typeof result) => `exported ${r.exported} account(s) as ${r.format} to ${r.file}; it holds the secrets in clear: import it, then delete it`);
    },
  },
  {
    path: ['vault', 'status'],
    summary: "The user's backup: current version, size, when stored and last restored (no content)",
    options: { user: { type: 'string' } },
    async run(context, args) {
      noPositionals(args);
      const userId = userOf(context, args.values);
      const { body } = await callDevices(context, 'GET', `/v1/users/${encodeURIComponent(userId)}/vault`);
      context.print(body, (r: { current?: { version: number; storedAt: string; sizeBytes: number; lastRestoredAt: string | null } | null }) =>
        r.current
          ? `backup version ${r.current.version}, ${r.current.sizeBytes} bytes, stored ${r.current.storedAt}, last restored ${r.current.lastRestoredAt ?? 'never'}`
          : 'no backup',
      );
    },
  },
];
