import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type VaultEntry,
  VaultError,
  decryptVault,
  encryptVault,
  exportAegisPlain,
  fromOtpauthUri,
  importAegisPlain,
  toOtpauthUri,
} from '@tessera/vault-client';
import { HOTP, Secret, TOTP } from 'otpauth';
import { type Command, type CommandContext, CliError, type ParsedArgs } from '../command';

/**
 * `tessera authenticator`: a software authenticator (RFC 6238 TOTP, RFC 4226 HOTP) for the command
 * line. Its accounts live in one local file in the vault format of libs/vault-client (scrypt +
 * AES-256-GCM, FORMAT.md), under a passphrase that never leaves the machine; `tessera vault backup`
 * encrypts the same accounts again, under the backup passphrase, for device-registry.
 *
 * Secrets never go on the command line (they would show in `ps` and shell history): URIs are read
 * from a file or stdin, passphrases from a file, an environment variable or a hidden prompt.
 */

export const AUTHENTICATOR_FILE_ENV = 'TESSERA_AUTHENTICATOR_FILE';
export const AUTHENTICATOR_PASSPHRASE_ENV = 'TESSERA_AUTHENTICATOR_PASSPHRASE';

export function authenticatorFile(env: NodeJS.ProcessEnv, values: ParsedArgs['values']): string {
  if (typeof values.file === 'string') return values.file;
  if (env[AUTHENTICATOR_FILE_ENV]) return env[AUTHENTICATOR_FILE_ENV] as string;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'tessera', 'authenticator.tsvb');
}

/**
 * A passphrase from `--<option>` (a file holding it), the environment, or a prompt on the terminal
 * with echo off. Refuses rather than waits when there is no terminal to ask on.
 */
export async function passphrase(context: CommandContext, values: ParsedArgs['values'], option: string, envName: string, what: string): Promise<string> {
  const file = values[option];
  if (typeof file === 'string') {
    try {
      return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch {
      throw new CliError('unreadable_file', `cannot read ${what} from ${file}`);
    }
  }
  const fromEnv = context.env[envName];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new CliError('passphrase_required', `no ${what}: use --${option} <file> or set ${envName}`);
  return promptHidden(`${what}: `);
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (error?: CliError) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled', 'cancelled', 130));
        if (char === '\u007f') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.on('data', onData);
  });
}

/** The accounts in the store; an absent store is empty (it is created on the first change). */
export async function loadAccounts(path: string, secret: string): Promise<VaultEntry[]> {
  if (!existsSync(path)) return [];
  try {
    return await decryptVault(new Uint8Array(await readFile(path)), secret);
  } catch (error) {
    throw vaultFailure(error, `the authenticator file ${path}`);
  }
}

/** Writes the store atomically (temporary file, then rename) and readable by its owner only. */
export async function saveAccounts(path: string, secret: string, entries: readonly VaultEntry[]): Promise<void> {
  let blob: Uint8Array;
  try {
    blob = await encryptVault(entries, secret);
  } catch (error) {
    throw vaultFailure(error, 'the accounts');
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, blob, { mode: 0o600 });
  await rename(temporary, path);
  await chmod(path, 0o600);
}

/** VaultError codes become CLI errors with the same code; the messages never quote a secret. */
export function vaultFailure(error: unknown, what: string): Error {
  if (!(error instanceof VaultError)) return error as Error;
  const hint =
    error.code === 'wrong_passphrase_or_tampered' ? `${what}: wrong passphrase, or the file was damaged or altered` : `${what}: ${error.message}`;
  return new CliError(error.code, hint);
}

export function accountName(entry: VaultEntry): string {
  return entry.issuer ? `${entry.issuer}:${entry.label}` : entry.label;
}

/** The current TOTP code and how long it stays current; HOTP codes come from `nextHotpCode`. */
export function totpCode(entry: Extract<VaultEntry, { type: 'totp' }>, now: number): { code: string; validForSeconds: number } {
  const totp = new TOTP({ secret: Secret.fromBase32(entry.secret), algorithm: entry.algorithm, digits: entry.digits, period: entry.period });
  return { code: totp.generate({ timestamp: now }), validForSeconds: entry.period - (Math.floor(now / 1000) % entry.period) };
}

function nextHotpCode(entry: Extract<VaultEntry, { type: 'hotp' }>): { code: string; next: VaultEntry } {
  const hotp = new HOTP({ secret: Secret.fromBase32(entry.secret), algorithm: entry.algorithm, digits: entry.digits });
  return { code: hotp.generate({ counter: entry.counter }), next: { ...entry, counter: entry.counter + 1 } };
}

/** Reads URIs (one per line) or an Aegis plain export; what cannot be imported is reported, not dropped. */
export async function readImport(source: string, format: string): Promise<{ entries: VaultEntry[]; skipped: string[] }> {
  let text: string;
  try {
    text = source === '-' ? await readStdin() : await readFile(source, 'utf8');
  } catch {
    throw new CliError('unreadable_file', `cannot read ${source}`);
  }
  try {
    if (format === 'aegis') {
      const result = importAegisPlain(text);
      return { entries: result.entries, skipped: result.skipped.map((item) => `entry ${item.index} (${item.type}): ${item.reason}`) };
    }
    if (format === 'otpauth') {
      const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0 && !line.startsWith('#'));
      return { entries: lines.map((line) => fromOtpauthUri(line)), skipped: [] };
    }
  } catch (error) {
    throw vaultFailure(error, source === '-' ? 'stdin' : source);
  }
  throw new CliError('usage', `--format must be otpauth or aegis, not '${format}'`, 2);
}

/** Plain export (secrets in clear!) in a form other authenticator apps read. */
export function plainExport(entries: readonly VaultEntry[], format: string): string {
  try {
    if (format === 'aegis') return exportAegisPlain(entries);
    if (format === 'otpauth') return `${entries.map((entry) => toOtpauthUri(entry)).join('\n')}\n`;
  } catch (error) {
    throw vaultFailure(error, 'the export');
  }
  throw new CliError('usage', `--format must be otpauth or aegis, not '${format}'`, 2);
}

/** Writes a file that holds secrets: owner-only, never over an existing file unless told to. */
export async function writeSecretFile(path: string, content: string, overwrite: boolean): Promise<void> {
  if (existsSync(path) && !overwrite) throw new CliError('file_exists', `${path} exists; add --force to replace it`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function noPositionals(args: ParsedArgs): void {
  // Not echoed: an argument given by mistake may be a secret (an otpauth URI, a passphrase).
  if (args.positionals.length > 0) throw new CliError('usage', 'this command takes no arguments, only options (secrets are read from files or stdin)', 2);
}

function indexOption(value: unknown, entries: readonly VaultEntry[]): number | null {
  if (value === undefined) return null;
  const index = Number(value);
  if (!Number.isInteger(index) || index < 1 || index > entries.length) {
    throw new CliError('usage', `--index must be 1..${entries.length} (see tessera authenticator list)`, 2);
  }
  return index - 1;
}

const storeOptions = {
  file: { type: 'string' },
  'passphrase-file': { type: 'string' },
} as const;

async function openStore(context: CommandContext, values: ParsedArgs['values']) {
  const path = authenticatorFile(context.env, values);
  const secret = await passphrase(context, values, 'passphrase-file', AUTHENTICATOR_PASSPHRASE_ENV, 'authenticator passphrase');
  return { path, secret, entries: await loadAccounts(path, secret) };
}

interface CodeLine {
  readonly index: number;
  readonly account: string;
  readonly type: 'totp' | 'hotp';
  readonly code: string | null;
  readonly validForSeconds: number | null;
  /** With --next: the code of the following time step, for a code that is about to expire. */
  readonly nextCode?: string;
}

export const authenticatorCommands: readonly Command[] = [
  {
    path: ['authenticator'],
    summary: 'Print the current codes of the local software authenticator (--index N for one, --next for the following ones too; a HOTP code advances its counter)',
    options: { ...storeOptions, index: { type: 'string' }, next: { type: 'boolean', default: false } },
    async run(context, args) {
      noPositionals(args);
      const store = await openStore(context, args.values);
      if (store.entries.length === 0) throw new CliError('no_accounts', `no accounts in ${store.path}: add one with tessera authenticator add`);
      const only = indexOption(args.values.index, store.entries);
      const now = Date.now();
      const lines: CodeLine[] = [];
      for (const [index, entry] of store.entries.entries()) {
        if (only !== null && index !== only) continue;
        if (entry.type === 'totp') {
          const next = args.values.next === true ? { nextCode: totpCode(entry, now + entry.period * 1000).code } : {};
          lines.push({ index: index + 1, account: accountName(entry), type: 'totp', ...totpCode(entry, now), ...next });
        } else if (only === index) {
          // RFC 4226 §7.2: the counter moves with every code generated, so it is saved before showing it.
          const { code, next } = nextHotpCode(entry);
          await saveAccounts(store.path, store.secret, store.entries.map((candidate, at) => (at === index ? next : candidate)));
          lines.push({ index: index + 1, account: accountName(entry), type: 'hotp', code, validForSeconds: null });
        } else {
          lines.push({ index: index + 1, account: accountName(entry), type: 'hotp', code: null, validForSeconds: null });
        }
      }
      context.print(lines, (result: CodeLine[]) =>
        result
          .map((line) =>
            line.code === null
              ? `${String(line.index).padStart(3)}  ${line.account.padEnd(40)} (HOTP: --index ${line.index} to generate)`
              : `${String(line.index).padStart(3)}  ${line.account.padEnd(40)} ${line.code}${line.validForSeconds === null ? '' : `  (${line.validForSeconds} s)`}` +
                (line.nextCode ? `  next ${line.nextCode}` : ''),
          )
          .join('\n'),
      );
    },
  },
  {
    path: ['authenticator', 'add'],
    summary: 'Add accounts from otpauth:// URIs (one per line) or an Aegis plain export: --from <file|-> [--format otpauth|aegis]',
    options: { ...storeOptions, from: { type: 'string' }, format: { type: 'string', default: 'otpauth' } },
    async run(context, args) {
      noPositionals(args);
      const from = args.values.from;
      if (typeof from !== 'string') throw new CliError('usage', '--from <file> is required (- for stdin); secrets are never taken as arguments', 2);
      const { entries: added, skipped } = await readImport(from, String(args.values.format));
      const store = await openStore(context, args.values);
      await saveAccounts(store.path, store.secret, [...store.entries, ...added]);
      const result = { added: added.map(accountName), skipped, total: store.entries.length + added.length, file: store.path };
      context.print(result, (r: typeof result) =>
        [...r.added.map((name) => `added ${name}`), ...r.skipped.map((line) => `skipped ${line}`), `${r.total} account(s) in ${r.file}`].join('\n'),
      );
    },
  },
  {
    path: ['authenticator', 'list'],
    summary: 'List the accounts (never their secrets)',
    options: storeOptions,
    async run(context, args) {
      noPositionals(args);
      const { entries } = await openStore(context, args.values);
      const listed = entries.map((entry, index) => ({
        index: index + 1,
        account: accountName(entry),
        type: entry.type,
        algorithm: entry.algorithm,
        digits: entry.digits,
        ...(entry.type === 'totp' ? { period: entry.period } : { counter: entry.counter }),
      }));
      context.print(listed, (result: typeof listed) =>
        result.length === 0 ? 'no accounts' : result.map((entry) => `${String(entry.index).padStart(3)}  ${entry.account}  ${entry.type} ${entry.algorithm} ${entry.digits} digits`).join('\n'),
      );
    },
  },
  {
    path: ['authenticator', 'remove'],
    summary: 'Remove one account: --index N',
    options: { ...storeOptions, index: { type: 'string' } },
    async run(context, args) {
      noPositionals(args);
      const store = await openStore(context, args.values);
      const index = indexOption(args.values.index, store.entries);
      if (index === null) throw new CliError('usage', '--index N is required', 2);
      await saveAccounts(store.path, store.secret, store.entries.filter((_, at) => at !== index));
      const result = { removed: accountName(store.entries[index]) };
      context.print(result, (r: typeof result) => `removed ${r.removed}`);
    },
  },
  {
    path: ['authenticator', 'export'],
    summary: 'Write the accounts IN CLEAR for another app: --format aegis|otpauth --out <file> [--force]',
    options: { ...storeOptions, format: { type: 'string', default: 'aegis' }, out: { type: 'string' }, force: { type: 'boolean', default: false } },
    async run(context, args) {
      noPositionals(args);
      const out = args.values.out;
      if (typeof out !== 'string') throw new CliError('usage', '--out <file> is required', 2);
      const { entries } = await openStore(context, args.values);
      await writeSecretFile(out, plainExport(entries, String(args.values.format)), args.values.force === true);
      const result = { exported: entries.length, file: out };
      context.print(result, (r: typeof result) => `exported ${r.exported} account(s) to ${r.file}; it holds the secrets in clear: keep it safe, delete it when done`);
    },
  },
];
