import { parseArgs } from 'node:util';
import { type Command, type CommandContext, CliError } from './command';

/**
 * Runs one `tessera` invocation: finds the command by its words, parses its options strictly,
 * runs it, and turns every failure into one line on stderr and an exit code (no stack traces).
 */
export async function runCli(
  argv: readonly string[],
  commands: readonly Command[],
  io: { env: NodeJS.ProcessEnv; stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  const json = argv.includes('--json');
  const words = argv.filter((arg) => arg !== '--json');
  const command = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((candidate) => candidate.path.every((part, index) => words[index] === part));
  const askedForHelp = words.length === 0 || words.includes('--help');
  if (askedForHelp) {
    io.stdout(usage(commands, command));
    return 0;
  }
  if (!command) {
    io.stderr(`error: usage: unknown command '${words.join(' ')}'\n${usage(commands)}`);
    return 2;
  }
  const context: CommandContext = {
    env: io.env,
    json,
    print: (result, human) => io.stdout(`${json || !human ? JSON.stringify(result, null, 2) : human(result as never)}\n`),
  };
  try {
    const parsed = parseArgs({ args: words.slice(command.path.length), options: command.options ?? {}, allowPositionals: true, strict: true });
    await command.run(context, { values: parsed.values, positionals: parsed.positionals });
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`error: ${error.code}: ${error.message}\n`);
      return error.exitCode;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`error: usage: ${(error as Error).message}\n${usage(commands, command)}`);
      return 2;
    }
    io.stderr(`error: internal: ${(error as Error).message}\n`);
    return 1;
  }
}

function usage(commands: readonly Command[], command?: Command): string {
  if (command) {
    const options = Object.entries(command.options ?? {}).map(([name, spec]) => `--${name}${spec.type === 'string' ? ' <value>' : ''}`);
    return `usage: tessera ${command.path.join(' ')} ${[...(command.positionals ?? []), ...options].join(' ')}\n  ${command.summary}\n`;
  }
  return `usage: tessera <command> [options] [--json]\n\n${commands.map((c) => `  ${c.path.join(' ').padEnd(28)} ${c.summary}`).join('\n')}\n`;
}
