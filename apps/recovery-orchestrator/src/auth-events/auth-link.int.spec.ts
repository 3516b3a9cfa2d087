import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@tessera/contracts';
import { createTopics, startTestService, type TestService, testKafka, uniqueName } from '@tessera/testing';
import { uuidv7 } from '@tessera/util';
import type { Kafka, Producer } from 'kafkajs';
import { startMailbox, type TestMailbox } from '../../../auth-service/src/testing/delivery-servers.spec';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../service';
import { type FakeAuthServer, startFakeAuthServer } from '../testing/fake-auth-grpc.server';
import { DAY, HOUR, until } from '../testing/workflow-env';
import { startTimeSkippingTemporal, type TimeSkippingTemporal } from './time-skipping-temporal.spec';

/**
 * The recovery-orchestrator consuming auth-service's facts (R1, R2): the real service — its consumer
 * on a Kafka topic of this test's own, its worker on a time-skipping Temporal server, PostgreSQL —
 * with a stand-in for auth-service's gRPC. The test publishes the auth events as auth-service's outbox
 * relay would (envelope as value, user id as key) and watches the recovery's own event stream.
 */

let temporal: TimeSkippingTemporal;
let auth: FakeAuthServer;
let mailbox: TestMailbox;
let svc: TestService<typeof recoveryOrchestratorConfigSchema>;
let kafka: Kafka;
let producer: Producer;
let topic: string;

const run = randomUUID().slice(0, 8);
const users = { alice: `link-alice-${run}`, bob: `link-bob-${run}` };
const contacts = Object.fromEntries(Object.values(users).map((userId) => [userId, [{ kind: 'email', address: `${userId}@example.org` }]]));

beforeAll(async () => {
  temporal = await startTimeSkippingTemporal();
  auth = await startFakeAuthServer();
  mailbox = await startMailbox();
  kafka = testKafka(uniqueName('auth-link'));
  topic = uniqueName('test.auth-link.auth');
  await createTopics(kafka, [topic]);
  producer = kafka.producer();
  await producer.connect();
  svc = await startTestService(RecoveryOrchestratorDefinition, {
    env: {
      ...temporal.serviceEnv,
      TEMPORAL_TASK_QUEUE: uniqueName('auth-link'),
      AUTH_GRPC_ADDRESS: auth.address,
      AUTH_EVENTS_TOPIC: topic,
      AUTH_EVENTS_CONSUMER: uniqueName('auth-link'),
      RECOVERY_CONTACTS_JSON: JSON.stringify(contacts),
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(mailbox.port),
      SMTP_SECURITY: 'none',
      SMTP_FROM: 'security@tessera.test',
    },
  });
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await producer?.disconnect();
  await temporal?.teardown();
  await auth?.stop();
  await mailbox?.close();
});

const token = (subject: string, roles: ('helpdesk' | 'security-officer')[]) => svc.token(subject, roles);

/** Started, attested and approved by two officers: cooling off. */
async function coolingOff(userId: string): Promise<string> {
  const helpdesk = await token('agent-1', ['helpdesk']);
  const started = await svc.request('POST', '/v1/recoveries', { token: helpdesk, body: { userId, reason: 'lost phone, verified by video', ticketReference: 'HD-9' } });
  expect(started.status).toBe(201);
  const id = started.body.recoveryId as string;
  expect((await svc.request('POST', `/v1/recoveries/${id}/evidence`, { token: helpdesk, body: { kind: 'helpdesk-attestation', reference: 'HD-9', outcome: 'passed' } })).status).toBe(200);
  for (const officer of ['officer-1', 'officer-2']) {
    expect((await svc.request('POST', `/v1/recoveries/${id}/approve`, { token: await token(officer, ['security-officer']), body: { reason: 'ok' } })).status).toBe(200);
  }
  return id;
}

const show = async (recoveryId: string) => (await svc.request('GET', `/v1/recoveries/${recoveryId}`, { token: await token('officer-1', ['security-officer']) })).body;
const recoveryEvents = async (recoveryId: string): Promise<{ type: string; data: Record<string, unknown>; actor: { kind: string; id: string } }[]> =>
  svc.service.resources.dataSource.query(`SELECT event_type AS type, data, metadata->'actor' AS actor FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`recovery-${recoveryId}`]);
const count = async (recoveryId: string, type: string) => (await recoveryEvents(recoveryId)).filter((event) => event.type === type).length;
const passOf = async (recoveryId: string) => (await recoveryEvents(recoveryId)).find((event) => event.type === 'TemporaryAccessPassIssued')?.data.passId as string;

/** An auth event as auth-service's outbox relay publishes it. */
function authEnvelope(type: string, data: Record<string, unknown> & { userId: string }): EventEnvelope {
  return {
    eventId: uuidv7(),
    type,
    version: 1,
    streamId: `auth-user-${data.userId}`,
    occurredAt: new Date().toISOString(),
    actor: { kind: 'user', id: data.userId },
    correlationId: `corr-${randomUUID()}`,
    causationId: null,
    data,
  };
}

async function publish(key: string, ...envelopes: EventEnvelope[]): Promise<void> {
  await producer.send({ topic, messages: envelopes.map((envelope) => ({ key, value: JSON.stringify(envelope), headers: { 'event-type': envelope.type, 'event-id': envelope.eventId } })) });
}

const redeemed = (userId: string, recoveryId: string, passId: string) => authEnvelope('TemporaryAccessPassConsumed', { userId, recoveryId, passId });
const totpBound = (userId: string, credentialId: string, recovery?: { recoveryId: string; passId: string }) =>
  authEnvelope('TotpConfirmed', { userId, credentialId, acceptedTimeStep: 58_000_000, ...(recovery ? { recovery } : {}) });

describe('auth-service facts move a recovery on (real Kafka and PostgreSQL, time-skipping Temporal)', () => {
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([coolingOff(users.alice), coolingOff(users.bob)]);
    const endsAt = Math.max(Date.parse((await show(alice)).coolingOffEndsAt), Date.parse((await show(bob)).coolingOffEndsAt));
    await temporal.skip(endsAt - (await temporal.env.currentTimeMs()) + 1_000);
    await until(async () => {
      expect((await show(alice)).state).toBe('pass-issued');
      expect((await show(bob)).state).toBe('pass-issued');
    }, 60_000);
  }, 180_000);

  it('S25/R1: a redeemed pass is applied once although its event arrives three times; the steps are auth-service’s', async () => {
    const passId = await passOf(alice);
    const event = redeemed(users.alice, alice, passId);
    await publish(users.alice, event, event);
    await publish(users.alice, event);
    // A later event of the same user (same partition) is applied only after the three copies.
    await publish(users.alice, totpBound(users.alice, randomUUID(), { recoveryId: alice, passId }));
    await until(async () => expect((await show(alice)).state).not.toBe('pass-issued'), 60_000);
    expect(await count(alice, 'TemporaryAccessPassRedeemed')).toBe(1);
    const steps = (await recoveryEvents(alice)).filter((stored) => ['TemporaryAccessPassRedeemed', 'RecoveryFactorEnrolled'].includes(stored.type));
    expect(steps.map((stored) => stored.actor)).toEqual([
      { kind: 'service', id: 'auth-service' },
      { kind: 'service', id: 'auth-service' },
    ]);
  });

  it('S25: an event naming another user’s recovery or an unknown one, a wrong pass id and a binding outside any recovery change nothing', async () => {
    const passId = await passOf(bob);
    const before = (await recoveryEvents(bob)).length;
    await publish(
      users.bob,
      // Alice names Bob's recovery (and his real pass id): not her recovery.
      redeemed(users.alice, bob, passId),
      redeemed(users.bob, randomUUID(), passId),
      // The decider refuses a pass this recovery did not issue.
      redeemed(users.bob, bob, randomUUID()),
      totpBound(users.bob, randomUUID()),
      // Then Bob's real redemption: once it is applied, every event before it has been handled.
      redeemed(users.bob, bob, passId),
    );
    await until(async () => expect(await count(bob, 'TemporaryAccessPassRedeemed')).toBe(1), 60_000);
    const after = await recoveryEvents(bob);
    expect(after.slice(before).map((stored) => stored.type)).toEqual(['TemporaryAccessPassRedeemed']);
    expect(after.at(-1)?.data).toMatchObject({ passId });
    expect((await show(bob)).state).toBe('pass-issued');
  });

  it('R6: a malformed auth event (a field its contract lacks) is not applied, and the consumer carries on', async () => {
    const passId = await passOf(bob);
    await publish(users.bob, authEnvelope('TotpConfirmed', { userId: users.bob, credentialId: randomUUID(), acceptedTimeStep: 1, recovery: { recoveryId: bob, passId, pass: '4711081542' } }));
    await publish(users.bob, totpBound(users.bob, randomUUID(), { recoveryId: bob, passId }));
    await until(async () => expect((await show(bob)).state).not.toBe('pass-issued'), 60_000);
    expect(await count(bob, 'RecoveryFactorEnrolled')).toBe(1);
  });

  // Last: the week it skips is past every other recovery's deadlines.
  it('S21/S25: the factor bound with the pass is the enrolment: old factors revoked, restricted period, completed', async () => {
    await until(async () => expect((await show(alice)).state).toBe('restricted'), 60_000);
    const enrolled = (await recoveryEvents(alice)).find((stored) => stored.type === 'RecoveryFactorEnrolled');
    expect(enrolled?.data).toMatchObject({ factorKind: 'totp', passId: await passOf(alice) });
    expect(auth.calls.filter((call) => call.method === 'RevokeCredential' && call.request.user_id === users.alice).map((call) => call.request.credential_id)).toEqual(['factor-old-totp']);
    await temporal.skip(7 * DAY + HOUR);
    await until(async () => expect((await show(alice)).state).toBe('completed'), 60_000);
  });
});
