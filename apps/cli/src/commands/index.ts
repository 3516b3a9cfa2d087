import type { Command } from '../command';
import { devCommands } from './dev';

/**
 * Every `tessera` command, one file per area. To add an area, add its file and ONE line here.
 */
export const COMMANDS: readonly Command[] = [
  ...devCommands,
];
