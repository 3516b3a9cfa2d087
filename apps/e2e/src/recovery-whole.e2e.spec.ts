import { randomUUID } from 'node:crypto';
import { TOPICS } from '@tessera/contracts';
import { startTestService, type TestService, testKafka, uniqueName } from '@tessera/testing';
import { type AuthTestService, authEnv, enrollTotp, events, startAuthService } from '../../auth-service/src/testing/auth-test-kit.spec';
import { startMailbox, type TestMailbox } from '../../auth-service/src/testing/delivery-servers.spec';
import { runCli } from '../../cli/src/cli';
import { COMMANDS } from '../../cli/src/commands';
import { startTimeSkippingTemporal, type TimeSkippingTemporal } from '../../recovery-orchestrator/src/auth-events/time-skipping-temporal.spec';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../../recovery-orchestrator/src/service';
import { until } from '../../recovery-orchestrator/src/testing/workflow-env';

/**
 * A whole assisted recovery across the real services: the security team drives it with the `tessera`
 * CLI against the real recovery-orchestrator; the real auth-service issues the Temporary Access Pass
 * and mails it to a real SMTP server; the user redeems it at auth-service and enrols a new TOTP app;
 * auth-service's facts reach the orchestrator through its outbox and Kafka, which revokes the old
 * factor, keeps the account restricted and completes. PostgreSQL and Kafka are the platform's; the
 * orchestrator's worker runs on a time-skipping Temporal server, so three days of cooling-off and a
 * week of restricted period pass in seconds (the policy's floors are real, and kept).
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('a whole assisted recovery (real auth-service and recovery-orchestrator, Kafka, SMTP, the tessera CLI)', () => {
  let temporal: TimeSkippingTemporal;
  let passMailbox: TestMailbox;
  let noticeMailbox: TestMailbox;
  let auth: AuthTestService;
  let orchestrator: TestService<typeof recoveryOrchestratorConfigSchema>;
  const user = `whole-${randomUUID().slice(0, 8)}@example.org`;

  beforeAll(async () => {
    temporal = await startTimeSkippingTemporal();
    [passMailbox, noticeMailbox] = await Promise.all([startMailbox(), startMailbox()]);
    auth = await startAuthService(authEnv({ AUTH_SMTP_URL: passMailbox.url, AUTH_SMTP_FROM: 'Tessera <no-reply@tessera.test>' }));
    // auth-service publishes to the shared topic, which holds every other test's events too: the
    // orchestrator's new consumer group starts at its end, as if it had consumed everything before.
    const consumerName = uniqueName('whole-auth-link');
    const admin = testKafka(uniqueName('whole')).admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(TOPICS.auth);
    await admin.setOffsets({ groupId: `recovery-orchestrator.${consumerName}`, topic: TOPICS.auth, partitions: ends.map(({ partition, high }) => ({ partition, offset: high })) });
    await admin.disconnect();
    orchestrator = await startTestService(RecoveryOrchestratorDefinition, {
      env: {
        ...temporal.serviceEnv,
        TEMPORAL_TASK_QUEUE: uniqueName('whole-recovery'),
        AUTH_GRPC_ADDRESS: auth.service.grpcUrl as string,
        AUTH_GRPC_TOKEN: await auth.token('recovery-orchestrator', ['service'], ['factors:verify', 'factors:read', 'factors:manage', 'contacts:read']),
        AUTH_EVENTS_TOPIC: TOPICS.auth,
        AUTH_EVENTS_CONSUMER: consumerName,
        RECOVERY_CONTACTS_JSON: JSON.stringify({ [user]: [{ kind: 'email', address: user }] }),
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(noticeMailbox.port),
        SMTP_SECURITY: 'none',
        SMTP_FROM: 'security@tessera.test',
      },
    });
  }, 240_000);

  afterAll(async () => {
    await orchestrator?.stop();
    await auth?.stop();
    await temporal?.teardown();
    await Promise.all([passMailbox?.close(), noticeMailbox?.close()]);
  });

  /** `tessera …` as a security officer; answers the exit code and what it printed. */
  async function tessera(officer: string, ...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const env = { TESSERA_RECOVERY_URL: orchestrator.url, TESSERA_TOKEN: await orchestrator.token(officer, ['security-officer']) };
    const code = await runCli(argv, COMMANDS, { env, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
    return { code, stdout, stderr };
  }
  const shown = async (recoveryId: string) => JSON.parse((await tessera('officer-1', 'recovery', 'show', recoveryId, '--json')).stdout);
  /** The pass in the newest mail to the user carrying one (the indented code line of the text body). */
  const mailedPass = (): string => {
    const mail = [...passMailbox.received].reverse().find((message) => message.to.includes(user) && /^ {4}[0-9]{10}\r?$/m.test(message.raw));
    if (!mail) throw new Error('no pass mailed yet');
    return /^ {4}([0-9]{10})\r?$/m.exec(mail.raw)![1];
  };

  it('S21/S25: start → evidence → two distinct approvals → cooling-off → pass by email → redeemed and a TOTP app enrolled at auth-service → old factor revoked → restricted → completed', async () => {
    // The user had one factor, an authenticator app on the phone now lost.
    const lost = await enrollTotp(auth, user);

    const start = await tessera('officer-1', 'recovery', 'start', '--user', user, '--reason', 'lost phone, identity checked on a video call', '--ticket', 'SEC-77', '--lost', lost.factorId, '--json');
    expect(start).toMatchObject({ code: 0, stderr: '' });
    const { recoveryId } = JSON.parse(start.stdout) as { recoveryId: string };
    expect((await tessera('officer-1', 'recovery', 'evidence', recoveryId, '--reference', 'SEC-77')).code).toBe(0);
    // S25: the requester, who also attested, cannot approve; two other officers can, once each.
    expect((await tessera('officer-1', 'recovery', 'approve', recoveryId, '--reason', 'mine')).stderr).toContain('error: approver_is_requester:');
    expect((await tessera('officer-2', 'recovery', 'approve', recoveryId, '--reason', 'video call matched the badge photo')).code).toBe(0);
    expect((await tessera('officer-2', 'recovery', 'approve', recoveryId, '--reason', 'again')).stderr).toContain('error: duplicate_vote:');
    const quorum = await tessera('officer-3', 'recovery', 'approve', recoveryId, '--reason', 'manager confirmed the loss');
    expect(quorum.stdout).toMatch(/cooling-off\s+approvals 2\/2\s+waiting for cooling-off until/);

    // The cooling-off (a day, two more for the factor bound just before the request) passes.
    const { coolingOffEndsAt } = await shown(recoveryId);
    await temporal.skip(Date.parse(coolingOffEndsAt) - (await temporal.env.currentTimeMs()) + 1_000);
    await until(async () => expect((await shown(recoveryId)).state).toBe('pass-issued'), 60_000);
    const pass = await until(async () => mailedPass(), 30_000);

    // The user redeems the pass at auth-service and binds a new authenticator app with it (S21).
    const redeemed = await auth.request('POST', '/v1/step-up', { token: await auth.token(user), body: { method: 'temporary_access_pass', proof: { code: pass } } });
    expect(redeemed).toMatchObject({ status: 200, body: { method: 'temporary_access_pass', assuranceLevel: 1 } });
    const fresh = await enrollTotp(auth, user, { stepUp: redeemed.body.stepUpAssertion });

    // The orchestrator hears both through Kafka, and the old factor is revoked (S23) before the restricted period.
    await until(async () => expect((await shown(recoveryId)).state).toBe('restricted'), 90_000);
    // The workflow revokes as it announces the restricted period: wait for auth-service's record of it.
    const authFacts = await until(async () => {
      const facts = await events(auth, user);
      expect(facts.some((event) => event.type === 'CredentialRevoked')).toBe(true);
      return facts;
    }, 60_000);
    const consumed = authFacts.find((event) => event.type === 'TemporaryAccessPassConsumed');
    expect(consumed?.data).toEqual({ userId: user, recoveryId, passId: expect.any(String) });
    expect(authFacts.find((event) => event.type === 'TotpConfirmed' && event.data.credentialId === fresh.factorId)?.data).toMatchObject({ recovery: { recoveryId, passId: consumed?.data.passId } });
    expect(authFacts.filter((event) => event.type === 'CredentialRevoked').map((event) => event.data)).toEqual([
      { userId: user, credentialId: lost.factorId, kind: 'totp', reason: 'recovery', referenceId: recoveryId },
    ]);
    // S29: the pass itself is in no event of either service.
    const recoveryFacts: { data: unknown }[] = await orchestrator.service.resources.dataSource.query(`SELECT data FROM events WHERE stream_id = $1`, [`recovery-${recoveryId}`]);
    expect(JSON.stringify([authFacts, recoveryFacts])).not.toContain(pass);

    // The restricted period (a week) passes, and the recovery completes.
    await temporal.skip(7 * DAY + HOUR);
    await until(async () => expect((await shown(recoveryId)).state).toBe('completed'), 60_000);
    const show = await tessera('officer-1', 'recovery', 'show', recoveryId);
    expect(show.stdout.split('\n')[0]).toMatch(new RegExp(`^${recoveryId}\\s+${user.replace(/[.]/g, '\\.')}\\s+assisted\\s+completed`));
    const timeline = show.stdout.split('\n').slice(1).map((entry) => entry.trim().split(/\s+/)[1]);
    expect(timeline).toEqual([
      'RecoveryRequested',
      'RecoveryEvidenceRecorded',
      'RecoveryApproved',
      'RecoveryApproved',
      'RecoveryCoolingOffStarted',
      'TemporaryAccessPassIssued',
      'TemporaryAccessPassRedeemed',
      'RecoveryFactorEnrolled',
      'RecoveryOldFactorsRevoked',
      'RecoveryCompleted',
    ]);
    expect(show.stdout).toMatch(/TemporaryAccessPassRedeemed\s+by service:auth-service/);
  });
});
