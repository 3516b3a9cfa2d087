import 'reflect-metadata';
import { runCli } from './cli';
import { COMMANDS } from './commands';

runCli(process.argv.slice(2), COMMANDS, {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
