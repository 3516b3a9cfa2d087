import { resolve } from 'node:path';
import { DevIssuer, ROLES, type Role } from '@tessera/platform';
import { type Command, CliError } from '../command';

const KEY_FILE = resolve(__dirname, '../../../../.local/dev-issuer/key.jwk.json');

/** `tessera dev token`: a bearer token from the development issuer the local platform trusts. */
export const devCommands: readonly Command[] = [
  {
    path: ['dev', 'token'],
    summary: 'Print a bearer token from the development issuer (refused when TESSERA_ENV=production)',
    options: { subject: { type: 'string' }, roles: { type: 'string', default: 'user' }, ttl: { type: 'string', default: '3600' } },
    async run(context, { values }) {
      const subject = values.subject;
      if (typeof subject !== 'string' || subject.length === 0) throw new CliError('usage', '--subject <user-or-client-id> is required', 2);
      const roles = String(values.roles).split(',').filter(Boolean);
      const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
      if (unknown.length > 0) throw new CliError('usage', `unknown role(s): ${unknown.join(', ')} (known: ${ROLES.join(', ')})`, 2);
      const ttlSeconds = Number(values.ttl);
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) throw new CliError('usage', '--ttl must be 1..86400 seconds', 2);
      let issuer: DevIssuer;
      try {
        issuer = await DevIssuer.fromFile(KEY_FILE, context.env.TESSERA_ENV);
      } catch (error) {
        throw new CliError('refused', (error as Error).message);
      }
      context.print({ token: await issuer.token({ subject, roles: roles as Role[], ttlSeconds }) }, (result: { token: string }) => result.token);
    },
  },
];
