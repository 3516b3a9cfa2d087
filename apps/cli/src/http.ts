import { CliError } from './command';

/** Base URLs of the services, from the environment (defaults: the local platform). */
export const SERVICE_URLS = {
  auth: 'TESSERA_AUTH_URL',
  devices: 'TESSERA_DEVICES_URL',
  recovery: 'TESSERA_RECOVERY_URL',
  audit: 'TESSERA_AUDIT_URL',
} as const;

const LOCAL_DEFAULTS: Record<keyof typeof SERVICE_URLS, string> = {
  auth: 'http://127.0.0.1:3101',
  devices: 'http://127.0.0.1:3102',
  recovery: 'http://127.0.0.1:3103',
  audit: 'http://127.0.0.1:3104',
};

/**
 * Calls a Tessera service with the caller's bearer token (TESSERA_TOKEN, or --token); answers with
 * the JSON body, or throws a CliError carrying the service's machine-readable code and message.
 */
export async function callService(
  env: NodeJS.ProcessEnv,
  service: keyof typeof SERVICE_URLS,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; idempotencyKey?: string } = {},
): Promise<unknown> {
  const base = env[SERVICE_URLS[service]] ?? LOCAL_DEFAULTS[service];
  const token = options.token ?? env.TESSERA_TOKEN;
  if (!token) throw new CliError('unauthenticated', 'no bearer token: set TESSERA_TOKEN (for local use: tessera dev token --subject <id> --roles <roles>)');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
  } catch (error) {
    throw new CliError('unreachable', `${service} at ${base} did not answer (${(error as Error).message}); is the platform up?`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } })?.error;
    throw new CliError(error?.code ?? `http_${response.status}`, error?.message ?? `${service} answered ${response.status}`);
  }
  return body;
}
