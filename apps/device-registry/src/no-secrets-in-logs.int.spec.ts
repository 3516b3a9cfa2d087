import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { AUTH_EVENT_SCHEMAS, type AuthEventData, type AuthEventType } from '@tessera/contracts';
import { type TestService, createTopics, eventually, startTestService, testKafka, uniqueName } from '@tessera/testing';
import { uuidv7 } from '@tessera/util';
import { decryptVault, encryptVault } from '@tessera/vault-client';
import type { Producer } from 'kafkajs';
import { Secret } from 'otpauth';
import { FAST, sampleEntries } from '../../../libs/vault-client/src/lib/test-entries';
import { type deviceRegistryConfigSchema } from './config';
import { autoDeviceId } from './factors/auto-device-id';
import { DeviceRegistryDefinition } from './service';
import { AuthServiceStandIn, STEP_UP_AUDIENCE, STEP_UP_ISSUER, StepUpIssuer } from './testing/registry-test-kit.spec';

/**
 * S30 for device-registry: every log line the service writes, at debug level, while it runs the device
 * flows (devices registered from auth-service's events, listed, renamed, revoked inside a step-up with
 * the user's token forwarded to auth-service) and the vault (upload, restore inside a step-up, refused
 * restores) holds no passphrase, seed, vault plaintext, step-up assertion or bearer token, in clear or
 * in the usual encodings. Refused requests count too: a wrong or replayed step-up, a forged bearer token.
 * (The registry test kit starts the service with silent logs; this file starts it with a capture.)
 */
describe('device-registry keeps secrets out of its logs (S30)', () => {
  const logs: string[] = [];
  const serviceToken = `svc-${randomBytes(24).toString('base64url')}`;
  let registry: TestService<typeof deviceRegistryConfigSchema>;
  let stepUps: StepUpIssuer;
  let auth: AuthServiceStandIn;
  let producer: Producer;
  let authTopic: string;

  beforeAll(async () => {
    const kafka = testKafka(uniqueName('device-registry-logs'));
    authTopic = uniqueName('test.auth');
    const devicesTopic = uniqueName('test.devices');
    await createTopics(kafka, [authTopic, devicesTopic]);
    stepUps = await StepUpIssuer.create();
    auth = await AuthServiceStandIn.start();
    const capture = new Writable({
      write(chunk, _encoding, callback) {
        logs.push(String(chunk));
        callback();
      },
    });
    registry = await startTestService(DeviceRegistryDefinition, {
      env: {
        LOG_LEVEL: 'debug',
        AUTH_EVENTS_TOPIC: authTopic,
        DEVICE_EVENTS_TOPIC: devicesTopic,
        AUTH_EVENTS_CONSUMER: uniqueName('auth-events'),
        STEP_UP_JWKS_JSON: stepUps.jwksJson,
        STEP_UP_ISSUER,
        STEP_UP_AUDIENCE,
        AUTH_GRPC_URL: auth.grpcUrl,
        AUTH_HTTP_URL: auth.httpUrl,
        AUTH_SERVICE_TOKEN: serviceToken,
        VAULT_MIN_SCRYPT_LOG2N: '10',
      },
      logDestination: capture,
    });
    producer = kafka.producer();
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await registry?.stop();
    await auth?.stop();
  });

  /** Publishes an auth-service event as its outbox would, and waits until the registry has consumed it. */
  async function publishAuth<T extends AuthEventType>(type: T, data: AuthEventData<T>): Promise<void> {
    const parsed = AUTH_EVENT_SCHEMAS[type].parse(data) as { userId: string };
    const eventId = uuidv7();
    const envelope = { eventId, type, version: 1, streamId: `auth-user-${parsed.userId}`, occurredAt: new Date().toISOString(), actor: { kind: 'user', id: parsed.userId }, correlationId: uuidv7(), causationId: null, data: parsed };
    await producer.send({ topic: authTopic, acks: -1, messages: [{ key: parsed.userId, value: JSON.stringify(envelope) }] });
    await eventually(async () => (await registry.service.resources.dataSource.query(`SELECT 1 FROM processed_messages WHERE event_id = $1`, [eventId])).length > 0);
  }

  it('S30: no passphrase, seed, vault plaintext, step-up assertion or bearer token appears in the logs of the device and vault flows', async () => {
    const secrets = new Map<string, string>();
    const keep = (label: string, value: string) => {
      secrets.set(value, label);
      // A JWT's signature is what makes it a credential: it must not appear even without the rest.
      const parts = value.split('.');
      if (parts.length === 3) secrets.set(parts[2], `${label} (signature)`);
    };
    keep('auth-service token of the registry', serviceToken);
    const userId = `logs-user-${randomUUID().slice(0, 8)}`;
    const token = await registry.token(userId, ['user']);
    keep('bearer token', token);
    const headers = (stepUp: string) => ({ 'x-step-up-assertion': stepUp });

    // Devices: two TOTP credentials and backup codes announced by auth-service; a phone registered with both.
    const credentials = [uuidv7(), uuidv7()];
    for (const credentialId of credentials) {
      await publishAuth('TotpEnrolled', { userId, credentialId, name: 'Authenticator', algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' });
    }
    const created = await registry.request('POST', `/v1/users/${userId}/devices`, { token, body: { kind: 'phone', name: 'Phone', credentialIds: credentials } });
    expect(created.status).toBe(201);
    const deviceId = created.body.deviceId as string;
    for (const credentialId of credentials) await publishAuth('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 });
    await publishAuth('BackupCodesGenerated', { userId, credentialId: uuidv7(), count: 10, replacedCredentialId: null });
    const key = uuidv7();
    await publishAuth('WebAuthnCredentialRegistered', { userId, credentialId: key, name: 'Key', aaguid: '00000000-0000-0000-0000-000000000000', deviceBound: true, signCount: 0 });
    expect((await registry.request('GET', `/v1/users/${userId}/devices`, { token })).body.devices.length).toBeGreaterThanOrEqual(2);
    expect((await registry.request('PATCH', `/v1/devices/${deviceId}`, { token, body: { name: 'Old phone' } })).status).toBe(200);

    // Refused step-ups: another user's, a stale one, and a forged bearer token.
    const othersStepUp = await stepUps.assertion(`someone-${randomUUID().slice(0, 8)}`);
    keep("another user's step-up assertion", othersStepUp);
    expect((await registry.request('POST', `/v1/devices/${deviceId}/revoke`, { token, headers: headers(othersStepUp) })).status).toBe(403);
    const stale = await stepUps.assertion(userId, { ageSeconds: 900 });
    keep('stale step-up assertion', stale);
    expect((await registry.request('POST', `/v1/devices/${deviceId}/revoke`, { token, headers: headers(stale) })).status).toBe(401);
    const forged = `${token.split('.').slice(0, 2).join('.')}.${randomBytes(64).toString('base64url')}`;
    keep('forged bearer token', forged);
    expect((await registry.request('GET', `/v1/users/${userId}/devices`, { token: forged })).status).toBe(401);

    // The revocation, inside a step-up: the user's token and assertion travel to auth-service.
    const revokeStepUp = await stepUps.assertion(userId);
    keep('step-up assertion of the revocation', revokeStepUp);
    const revoked = await registry.request('POST', `/v1/devices/${deviceId}/revoke`, { token, headers: headers(revokeStepUp) });
    expect(revoked.status).toBe(200);
    expect(auth.calls.filter((call) => call.userId === userId).map((call) => call.stepUp)).toEqual(credentials.map(() => revokeStepUp));

    // The vault: a blob encrypted on the client, uploaded, restored inside a step-up; refused restores.
    const passphrase = `passphrase ${randomBytes(12).toString('base64url')} of the test`;
    keep('vault passphrase', passphrase);
    keep('vault passphrase (base64)', Buffer.from(passphrase).toString('base64'));
    const entries = sampleEntries(12);
    for (const entry of entries) {
      keep(`seed of ${entry.issuer} (base32)`, entry.secret);
      const bytes = Buffer.from(Secret.fromBase32(entry.secret).bytes);
      keep(`seed of ${entry.issuer} (hex)`, bytes.toString('hex'));
      keep(`seed of ${entry.issuer} (base64)`, bytes.toString('base64'));
      keep(`label of ${entry.issuer}`, entry.label);
    }
    keep('vault plaintext', JSON.stringify(entries));
    const blob = await encryptVault(entries, passphrase, FAST);
    const uploaded = await fetch(`${registry.url}/v1/users/${userId}/vault?deviceId=${autoDeviceId(key)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from(blob),
    });
    expect(uploaded.status).toBe(201);
    expect((await registry.request('POST', `/v1/users/${userId}/vault/restores`, { token, body: {} })).status).toBe(401);
    const restoreStepUp = await stepUps.assertion(userId);
    keep('step-up assertion of the restore', restoreStepUp);
    const restored = await registry.request('POST', `/v1/users/${userId}/vault/restores`, { token, body: {}, headers: headers(restoreStepUp) });
    expect(restored.status).toBe(200);
    expect(await decryptVault(restored.body.blob, passphrase)).toEqual(entries);
    // The same assertion again is a replay, refused.
    expect((await registry.request('POST', `/v1/users/${userId}/vault/restores`, { token, body: {}, headers: headers(restoreStepUp) })).status).toBeGreaterThanOrEqual(400);

    const logged = logs.join('');
    // The capture works, at debug level, and saw the flows (requests and consumed events).
    expect(logged).toContain('request completed');
    expect(logged).toContain(deviceId);
    const leaks = [...secrets].filter(([secret]) => logged.includes(secret)).map(([, label]) => label);
    expect(leaks).toEqual([]);
    expect(secrets.size).toBeGreaterThan(50);
  });
});
