/**
 * npm run bench:devices — device-registry against the real local PostgreSQL and Kafka (start them
 * first: infra/local/platform infra).
 *
 * 1. Device list under load: a device-registry process of its own (fresh database, its own topics)
 *    learns 50 devices of one user from auth-service's events (TOTP apps and security keys, each used
 *    once), then CONCURRENCY clients each GET /v1/users/{id}/devices back to back, REQUESTS in all,
 *    after a warm-up; latency percentiles and requests per second. The load generator runs in this
 *    process, the service in another, as a caller and the service would.
 * 2. Vault: encrypt then decrypt 100 TOTP secrets with the default KDF (scrypt N = 2^17, r = 8, p = 1,
 *    libs/vault-client FORMAT.md), ROUNDS times; the median round trip.
 *
 * Prints its figures; the last line is one JSON object.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { DevIssuer } from '@tessera/platform';
import { createTestDatabase, createTopics, freePort, kafkaBrokers, testKafka, uniqueName } from '@tessera/testing';
import { uuidv7 } from '@tessera/util';
import { DEFAULT_SCRYPT_PARAMS, type VaultEntry, decryptVault, encryptVault } from '@tessera/vault-client';
import { Secret } from 'otpauth';
import { median, round, summarise } from './stats';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 8_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1_000);
const ROUNDS = Number(process.env.BENCH_VAULT_ROUNDS ?? 5);
const YUBIKEY_5 = 'ee882879-721c-4913-9775-3dfcce97072a';

async function main(): Promise<void> {
  const database = await createTestDatabase('bench_devices');
  const issuer = await DevIssuer.generate('test');
  const kafka = testKafka(uniqueName('bench-devices'));
  const authTopic = uniqueName('bench.auth');
  const devicesTopic = uniqueName('bench.devices');
  await createTopics(kafka, [authTopic, devicesTopic]);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', '-r', '@swc-node/register', 'apps/device-registry/src/main.ts'], {
    env: {
      ...process.env,
      TESSERA_ENV: 'test',
      HTTP_PORT: String(port),
      GRPC_PORT: String(await freePort()),
      DATABASE_URL: database.url,
      KAFKA_BROKERS: kafkaBrokers().join(','),
      AUTH_JWKS_JSON: issuer.jwksJson(),
      AUTH_EVENTS_TOPIC: authTopic,
      DEVICE_EVENTS_TOPIC: devicesTopic,
      AUTH_EVENTS_CONSUMER: uniqueName('bench'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok === true, 120_000, 'device-registry did not become ready');
    const userId = `bench-${uuidv7()}`;
    await learnDevices(kafka, authTopic, userId);
    const token = await issuer.token({ subject: userId, roles: ['user'], ttlSeconds: 3600 });
    const list = async () => {
      const response = await fetch(`${base}/v1/users/${userId}/devices`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await response.json()) as { devices?: unknown[] };
      return { ok: response.ok, devices: body.devices?.length ?? 0 };
    };
    await waitFor(async () => (await list()).devices >= DEVICES, 120_000, `the ${DEVICES} devices did not arrive`);

    await load(list, WARMUP);
    const measured = await load(list, REQUESTS);
    console.log(
      `device list, ${DEVICES} devices, ${CONCURRENCY} concurrent clients, ${REQUESTS} requests: ${measured.perSecond}/s; ` +
        `p50 ${measured.p50} ms, p99 ${measured.p99} ms, max ${measured.max} ms; failures ${measured.failures}`,
    );

    const vault = await benchVault();
    console.log(
      `vault, 100 secrets, scrypt N=2^${DEFAULT_SCRYPT_PARAMS.log2N} r=${DEFAULT_SCRYPT_PARAMS.r} p=${DEFAULT_SCRYPT_PARAMS.p}, median of ${ROUNDS}: ` +
        `encrypt ${vault.encrypt} ms, decrypt ${vault.decrypt} ms, round trip ${vault.roundTrip} ms, blob ${vault.bytes} bytes`,
    );
    console.log(
      JSON.stringify({
        bench: 'devices',
        list_p99_ms: measured.p99,
        list_p50_ms: measured.p50,
        list_per_s: measured.perSecond,
        list_failures: measured.failures,
        devices: DEVICES,
        concurrency: CONCURRENCY,
        requests: REQUESTS,
        vault_roundtrip_100_ms: vault.roundTrip,
        vault_encrypt_100_ms: vault.encrypt,
        vault_decrypt_100_ms: vault.decrypt,
        vault_kdf: `scrypt N=2^${DEFAULT_SCRYPT_PARAMS.log2N} r=${DEFAULT_SCRYPT_PARAMS.r} p=${DEFAULT_SCRYPT_PARAMS.p}`,
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await database.drop();
  }
}

/** auth-service's events for DEVICES bound factors (alternately TOTP apps and security keys), each used once. */
async function learnDevices(kafka: ReturnType<typeof testKafka>, topic: string, userId: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const envelope = (type: string, data: Record<string, unknown>) => ({
    key: userId,
    value: JSON.stringify({
      eventId: uuidv7(),
      type,
      version: 1,
      streamId: `auth-user-${userId}`,
      occurredAt: new Date().toISOString(),
      actor: { kind: 'user', id: userId },
      correlationId: uuidv7(),
      causationId: null,
      data,
    }),
  });
  const messages = [];
  for (let i = 0; i < DEVICES; i++) {
    const credentialId = uuidv7();
    if (i % 2 === 0) {
      messages.push(envelope('TotpEnrolled', { userId, credentialId, name: `Phone ${i}`, algorithm: 'SHA1', digits: 6, period: 30, source: 'generated' }));
      messages.push(envelope('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 1 }));
    } else {
      messages.push(envelope('WebAuthnCredentialRegistered', { userId, credentialId, name: `Key ${i}`, aaguid: YUBIKEY_5, deviceBound: true, signCount: 0 }));
    }
    messages.push(envelope('VerificationSucceeded', { userId, credentialId, kind: i % 2 === 0 ? 'totp' : 'webauthn', aal: 2, amr: ['otp'], timeStep: null, signCount: null }));
  }
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

/** A fixed number of calls with CONCURRENCY in flight; latency of each. */
async function load(call: () => Promise<{ ok: boolean }>, count: number) {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        const t0 = performance.now();
        const { ok } = await call();
        latencies.push(performance.now() - t0);
        if (!ok) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = summarise(latencies);
  return { perSecond: Math.round(count / seconds), p50: round(stats.p50), p99: round(stats.p99), max: round(stats.max), failures };
}

async function benchVault() {
  const entries: VaultEntry[] = Array.from({ length: 100 }, (_, i) => ({
    type: 'totp',
    issuer: `Service ${i}`,
    label: `user${i}@example.com`,
    secret: new Secret({ size: 20 }).base32,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  }));
  const passphrase = 'a passphrase for the vault benchmark';
  const encryptTimes: number[] = [];
  const decryptTimes: number[] = [];
  let bytes = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const t0 = performance.now();
    const blob = await encryptVault(entries, passphrase);
    const t1 = performance.now();
    const back = await decryptVault(blob, passphrase);
    const t2 = performance.now();
    if (back.length !== entries.length) throw new Error('the vault round trip lost entries');
    bytes = blob.byteLength;
    if (round === 0) continue; // warm-up
    encryptTimes.push(t1 - t0);
    decryptTimes.push(t2 - t1);
  }
  const encrypt = round(median(encryptTimes), 1);
  const decrypt = round(median(decryptTimes), 1);
  return { encrypt, decrypt, roundTrip: round(median(encryptTimes.map((time, i) => time + decryptTimes[i])), 1), bytes };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().catch((error: unknown) => {
  console.error(`bench:devices failed: ${(error as Error).message} (is the platform up? infra/local/platform infra)`);
  process.exit(1);
});
