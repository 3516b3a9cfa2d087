import { decodeBase32Secret, generateTotpCode, type TotpSeed } from '@tessera/auth-domain';
import type { TotpAlgorithm } from '@tessera/contracts';
import { startTestService, type TestService, type TestDatabase } from '@tessera/testing';
import type { DestinationStream } from 'pino';
import { generateKeyMaterial } from '../config/auth-keys';
import { AuthServiceDefinition, type authServiceConfigSchema } from '../service';

/** Test-only helpers for auth-service's integration tests (real PostgreSQL and Kafka). */
export type AuthTestService = TestService<typeof authServiceConfigSchema>;

export const ORIGIN = 'https://app.tessera.test';
export const RP_ID = 'app.tessera.test';
export const SERVICE_SCOPES = ['factors:verify', 'factors:read', 'factors:manage'];

export function authEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...generateKeyMaterial(), AUTH_WEBAUTHN_ORIGINS: ORIGIN, AUTH_WEBAUTHN_RP_ID: RP_ID, ...overrides };
}

export function startAuthService(env: Record<string, string> = authEnv(), database?: TestDatabase, logDestination?: DestinationStream): Promise<AuthTestService> {
  return startTestService(AuthServiceDefinition, { env, database, logDestination });
}

export interface EnrolledTotp {
  readonly factorId: string;
  readonly seed: TotpSeed;
  /** A code of the time step `steps` after now (the confirming code spent the current one). */
  code(steps?: number): string;
}

let counter = 0;
export function newUserId(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}@example.org`;
}

/** Enrols and confirms a TOTP factor as the user's first factor. */
export async function enrollTotp(svc: AuthTestService, userId: string, options: { stepUp?: string; algorithm?: TotpAlgorithm } = {}): Promise<EnrolledTotp> {
  const token = await svc.token(userId);
  const enrol = await svc.request('POST', `/v1/users/${encodeURIComponent(userId)}/factors/totp`, {
    token,
    body: options.algorithm ? { algorithm: options.algorithm } : {},
    headers: options.stepUp ? { 'x-step-up-assertion': options.stepUp } : {},
  });
  if (enrol.status !== 201) throw new Error(`enrolment failed: ${enrol.status} ${JSON.stringify(enrol.body)}`);
  const seed: TotpSeed = { secret: decodeBase32Secret(enrol.body.secret), algorithm: enrol.body.algorithm, digits: enrol.body.digits, period: enrol.body.period };
  const confirm = await svc.request('POST', `/v1/users/${encodeURIComponent(userId)}/factors/totp/${enrol.body.factorId}/confirmation`, {
    token,
    body: { code: generateTotpCode(seed, new Date()) },
  });
  if (confirm.status !== 200) throw new Error(`confirmation failed: ${confirm.status} ${JSON.stringify(confirm.body)}`);
  return { factorId: enrol.body.factorId, seed, code: (steps = 1) => generateTotpCode(seed, new Date(Date.now() + steps * seed.period * 1000)) };
}

/** A step-up assertion for the user from a TOTP code `steps` ahead (each step can be used once, S1). */
export async function stepUpWithTotp(svc: AuthTestService, userId: string, totp: EnrolledTotp, steps = 1): Promise<string> {
  const response = await svc.request('POST', '/v1/step-up', { token: await svc.token(userId), body: { method: 'totp', proof: { code: totp.code(steps) } } });
  if (response.status !== 200) throw new Error(`step-up failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.stepUpAssertion;
}

export async function events(svc: AuthTestService, userId: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return svc.service.resources.dataSource.query(`SELECT event_type AS type, data FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`auth-user-${userId}`]);
}

export const path = (userId: string, rest = '') => `/v1/users/${encodeURIComponent(userId)}${rest}`;
