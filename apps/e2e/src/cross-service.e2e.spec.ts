import { TOTP_DEFAULTS, decodeBase32Secret, generateTotpCode } from '@tessera/auth-domain';
import { type TestService, eventually, startTestService, uniqueName } from '@tessera/testing';
import { AuditServiceDefinition, type auditServiceConfigSchema } from '../../audit-service/src/service';
import { AuthServiceDefinition, type authServiceConfigSchema } from '../../auth-service/src/service';

/**
 * Facts travel between services only as events: a user's action on auth-service is appended to its
 * event store, published by its outbox relay to Kafka, consumed by audit-service and recorded in the
 * audit log — found there by the request's correlation id.
 */
describe('from one service to another through Kafka', () => {
  let auth: TestService<typeof authServiceConfigSchema>;
  let audit: TestService<typeof auditServiceConfigSchema>;

  beforeAll(async () => {
    auth = await startTestService(AuthServiceDefinition);
    // Its own consumer group (the group is named after the service), so no other audit instance shares its partitions.
    audit = await startTestService({ ...AuditServiceDefinition, name: uniqueName('audit-service') }, { env: { AUDIT_CHECKPOINT_INTERVAL_MS: '0' } });
  });
  afterAll(async () => {
    await audit?.stop();
    await auth?.stop();
  });

  it('a factor enrolled on auth-service is in the audit log with its correlation id, and no secret travelled (S29)', async () => {
    const userId = uniqueName('user');
    const token = await auth.token(userId, ['user']);
    const correlationId = uniqueName('e2e-enrol');
    const enrol = await auth.request('POST', `/v1/users/${userId}/factors/totp`, { token, body: { name: 'Phone' }, headers: { 'x-correlation-id': correlationId } });
    expect(enrol.status).toBe(201);
    const seed = enrol.body.secret as string;
    const code = generateTotpCode({ ...TOTP_DEFAULTS, secret: decodeBase32Secret(seed) }, new Date());
    const confirm = await auth.request('POST', `/v1/users/${userId}/factors/totp/${enrol.body.factorId}/confirmation`, {
      token, body: { code }, headers: { 'x-correlation-id': correlationId },
    });
    expect(confirm.status).toBeLessThan(300);

    const auditor = await audit.token('auditor-1', ['auditor']);
    // Other services may add facts under the same correlation id (device-registry registers a device);
    // auth-service's own records are exactly these two.
    let records: { eventType: string; correlationId: string; source: string }[] = [];
    const fromAuth = () => records.filter((record) => record.source === 'tessera.auth.v1');
    await eventually(async () => {
      const answer = await audit.request('GET', `/v1/audit/records?correlationId=${correlationId}`, { token: auditor });
      records = answer.body.records ?? [];
      return fromAuth().length >= 2;
    }, 60_000, 250);
    expect(fromAuth().map((record) => record.eventType).sort()).toEqual(['TotpConfirmed', 'TotpEnrolled']);
    expect(records.every((record) => record.correlationId === correlationId)).toBe(true);
    expect(JSON.stringify(records)).not.toContain(seed);
  });
});
