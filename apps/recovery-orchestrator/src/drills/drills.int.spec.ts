import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { type TestService, startTestService, uniqueName } from '@tessera/testing';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../service';
import { temporalDataConverter } from '../temporal/payload-codec';
import { DrillRunnerService } from './drill-runner.service';

let svc: TestService<typeof recoveryOrchestratorConfigSchema>;
let temporal: Client;
const scheduleId = uniqueName('recovery-drill-schedule');
const drillUser = `drill-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  svc = await startTestService(RecoveryOrchestratorDefinition, {
    env: {
      TEMPORAL_TASK_QUEUE: uniqueName('recovery-drills'),
      DRILL_USER_ID: drillUser,
      SYNTHETIC_TEST_ACCOUNTS: drillUser,
      DRILL_INTERVAL: '24h',
      DRILL_SCHEDULE_ID: scheduleId,
    },
  });
  temporal = new Client({
    connection: await Connection.connect({ address: svc.service.resources.config.TEMPORAL_ADDRESS }),
    namespace: svc.service.resources.config.TEMPORAL_NAMESPACE,
    dataConverter: temporalDataConverter(svc.service.resources.config),
  });
}, 120_000);
afterAll(async () => {
  await temporal?.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await temporal?.connection.close();
  await svc?.stop();
});

describe('recovery drills', () => {
  it('a Temporal Schedule runs the drill workflow at the configured interval, without overlap', async () => {
    const description = await temporal.schedule.getHandle(scheduleId).describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'drillWorkflow' });
    expect(description.spec.intervals).toEqual([expect.objectContaining({ every: 86_400_000 })]);
    expect(description.policies.overlap).toBe('SKIP');
  });

  it('records a drill\'s outcome once, as an event, a row and a metric', async () => {
    const drills = svc.service.app.get(DrillRunnerService);
    const drillId = randomUUID();
    const plan = await drills.start(drillId, new Date());
    expect(plan).toMatchObject({ recoveryId: `drill-${drillId}`, userId: drillUser, policyVersion: 'default-1+drill.1000' });
    // Past its deadline with the recovery still waiting for evidence: the drill failed, and says where.
    const late = new Date(Date.parse(plan.deadline) + 1_000);
    expect(await drills.record(drillId, plan.recoveryId, late)).toEqual({ drillId, recoveryId: plan.recoveryId, outcome: 'failed', reason: 'deadline-passed' });
    expect(await drills.record(drillId, plan.recoveryId, late)).toMatchObject({ outcome: 'failed' });
    const events = await svc.service.resources.dataSource.query(`SELECT event_type, data FROM events WHERE stream_id = $1`, [`drill-${drillId}`]);
    expect(events).toEqual([{ event_type: 'RecoveryDrillFailed', data: expect.objectContaining({ reason: 'deadline-passed', stageReached: 'awaiting-evidence', timerFactor: 1000 }) }]);
    const listed = await svc.request('GET', '/v1/drills', { token: await svc.token('officer-1', ['security-officer']) });
    expect(listed.body.drills).toEqual([expect.objectContaining({ drillId, outcome: 'failed', reason: 'deadline-passed' })]);
    const metrics = await svc.request('GET', '/metrics');
    expect(String(metrics.body)).toMatch(/tessera_recovery_drills_total\{outcome="failed",service="recovery-orchestrator"\} 1/);
    expect((await svc.request('GET', '/v1/drills', { token: await svc.token('user-1') })).status).toBe(403);
    expect((await svc.request('POST', '/v1/drills', { token: await svc.token('agent-1', ['helpdesk']) })).status).toBe(403);
  });
});
