import { DedicatedKafka, type TestService, eventually, startTestService, uniqueName } from '@tessera/testing';
import { AuditServiceDefinition } from '../../audit-service/src/service';
import { AuthServiceDefinition } from '../../auth-service/src/service';
import { DeviceRegistryDefinition } from '../../device-registry/src/service';
import { RecoveryOrchestratorDefinition } from '../../recovery-orchestrator/src/service';

/**
 * Each service is ready only while its dependencies answer. The four run against a broker of their
 * own, which this test stops and starts, so the shared broker is never disturbed.
 */
// This file stops and starts a broker of its own; on a loaded CI machine a JVM start can take minutes.
jest.setTimeout(300_000);

describe('readiness follows dependencies', () => {
  const broker = new DedicatedKafka(2);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- four services with different config types
  const services: [string, TestService<any>][] = [];

  beforeAll(async () => {
    await broker.start();
    const options = { kafkaBrokers: broker.brokers };
    services.push(['auth-service', await startTestService(AuthServiceDefinition, options)]);
    services.push(['device-registry', await startTestService(DeviceRegistryDefinition, options)]);
    services.push(['recovery-orchestrator', await startTestService(RecoveryOrchestratorDefinition, { ...options, env: { TEMPORAL_TASK_QUEUE: uniqueName('readiness') } })]);
    services.push(['audit-service', await startTestService(AuditServiceDefinition, options)]);
  }, 300_000);

  afterAll(async () => {
    for (const [, service] of services) await service.stop().catch(() => undefined);
    await broker.destroy();
  });

  const readiness = async () =>
    Promise.all(services.map(async ([name, service]) => ({ name, ...(await service.request('GET', '/health/ready')) })));

  it('every service serves its OpenAPI document, Prometheus metrics and liveness under its own name', async () => {
    for (const [name, service] of services) {
      expect((await service.request('GET', '/docs/openapi.json')).body.info.title).toBe(`Tessera ${name}`);
      expect((await service.request('GET', '/metrics')).body).toContain(`service="${name}"`);
      expect((await service.request('GET', '/health/live')).status).toBe(200);
    }
  });

  it('stop Kafka → every service reports not ready (kafka down); start it → ready again', async () => {
    for (const answer of await readiness()) expect({ name: answer.name, status: answer.status }).toEqual({ name: answer.name, status: 200 });

    await broker.stop();
    await eventually(async () => (await readiness()).every((answer) => answer.status === 503), 30_000, 500);
    for (const answer of await readiness()) {
      expect(answer.body).toMatchObject({ status: 'not_ready', checks: { kafka: { status: 'down' }, postgres: { status: 'up' } } });
      // Liveness is not readiness: the process is fine, a dependency is not.
      expect((await services.find(([name]) => name === answer.name)![1].request('GET', '/health/live')).status).toBe(200);
    }

    await broker.start();
    await eventually(async () => (await readiness()).every((answer) => answer.status === 200), 60_000, 500);
  });
});
