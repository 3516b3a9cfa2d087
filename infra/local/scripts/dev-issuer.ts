/**
 * The development token issuer's key (.local/dev-issuer/key.jwk.json, created on first use).
 *   jwks                          prints the public JWKS the services trust (AUTH_JWKS_JSON)
 *   token <subject> <roles> [ttl] [scopes]  prints a bearer token; roles and scopes comma-separated
 * Refuses to run with TESSERA_ENV=production.
 */
import { resolve } from 'node:path';
import { DevIssuer } from '../../../libs/shared/platform/src/lib/auth/dev-issuer';
import type { Role } from '../../../libs/shared/platform/src/lib/auth/principal';

const keyFile = resolve(__dirname, '../../../.local/dev-issuer/key.jwk.json');

async function main(): Promise<void> {
  const [command, subject, roles, ttl, scopes] = process.argv.slice(2);
  const issuer = await DevIssuer.fromFile(keyFile);
  if (command === 'jwks') process.stdout.write(`${issuer.jwksJson()}\n`);
  else if (command === 'token' && subject) {
    process.stdout.write(`${await issuer.token({ subject, roles: (roles ?? 'user').split(',') as Role[], ttlSeconds: Number(ttl ?? 3600), scopes: scopes ? scopes.split(',') : [] })}\n`);
  } else throw new Error('usage: dev-issuer.ts jwks | token <subject> <roles,comma,separated> [ttlSeconds] [scopes,comma,separated]');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
