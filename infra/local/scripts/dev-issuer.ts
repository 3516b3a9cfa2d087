/**
 * The development token issuer's key (.local/dev-issuer/key.jwk.json, created on first use).
 *   jwks                          prints the public JWKS the services trust (AUTH_JWKS_JSON)
 *   token <subject> <roles> [ttl] [scopes]  prints a bearer token; roles and scopes comma-separated
 *   service-tokens <name…>        writes a 30-day token (role service) for each local service to
 *                                 .local/dev-issuer/<name>.token, then prints the JWKS (one process for
 *                                 everything the local platform needs at start)
 * Refuses to run with TESSERA_ENV=production.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DevIssuer } from '../../../libs/shared/platform/src/lib/auth/dev-issuer';
import type { Role } from '../../../libs/shared/platform/src/lib/auth/principal';

const issuerDir = resolve(__dirname, '../../../.local/dev-issuer');
const keyFile = resolve(issuerDir, 'key.jwk.json');
/** What one local service may ask of the others. */
const SERVICE_SCOPES = ['factors:verify', 'factors:read', 'factors:manage', 'contacts:read', 'devices:revoke', 'devices:read'];

async function main(): Promise<void> {
  const [command, subject, roles, ttl, scopes] = process.argv.slice(2);
  const issuer = await DevIssuer.fromFile(keyFile);
  if (command === 'jwks') process.stdout.write(`${issuer.jwksJson()}\n`);
  else if (command === 'service-tokens') {
    for (const name of process.argv.slice(3)) {
      const token = await issuer.token({ subject: name, roles: ['service'], scopes: SERVICE_SCOPES, ttlSeconds: 30 * 24 * 3600 });
      writeFileSync(resolve(issuerDir, `${name}.token`), `${token}\n`, { mode: 0o600 });
    }
    process.stdout.write(`${issuer.jwksJson()}\n`);
  }
  else if (command === 'token' && subject) {
    process.stdout.write(`${await issuer.token({ subject, roles: (roles ?? 'user').split(',') as Role[], ttlSeconds: Number(ttl ?? 3600), scopes: scopes ? scopes.split(',') : [] })}\n`);
  } else throw new Error('usage: dev-issuer.ts jwks | token <subject> <roles,comma,separated> [ttlSeconds] [scopes,comma,separated] | service-tokens <name...>');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
