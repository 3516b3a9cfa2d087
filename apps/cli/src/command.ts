import type { ParseArgsConfig } from 'node:util';

/** One `tessera <group> <verb>` command. Commands are listed in commands/index.ts, one file per area. */
export interface Command {
  /** e.g. ['recovery', 'approve'] */
  readonly path: readonly string[];
  readonly summary: string;
  /** node:util parseArgs options; values arrive as strings/booleans and are validated by the command. */
  readonly options?: ParseArgsConfig['options'];
  /** Positional arguments, for the help text (e.g. ['<recovery-id>']). */
  readonly positionals?: readonly string[];
  run(context: CommandContext, args: ParsedArgs): Promise<void>;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly positionals: readonly string[];
}

export interface CommandContext {
  readonly env: NodeJS.ProcessEnv;
  /** Prints a result: JSON with --json, else the human form. */
  print(result: unknown, human?: (result: never) => string): void;
  readonly json: boolean;
}

/** A failure the user can act on: printed as `error: <code>: <message>`, exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
