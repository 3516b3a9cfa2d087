import type { Command } from '../command';
import { auditCommands } from './audit';
import { authenticatorCommands } from './authenticator';
import { devCommands } from './dev';
import { recoveryCommands } from './recovery';
import { vaultCommands } from './vault';

/**
 * Every `tessera` command, one file per area. To add an area, add its file and ONE line here.
 */
export const COMMANDS: readonly Command[] = [
  ...devCommands,
  ...recoveryCommands,
  ...vaultCommands,
  ...authenticatorCommands,
  ...auditCommands,
];
