import { Body, Controller, type DynamicModule, Inject, Module, Param, Post } from '@nestjs/common';
import { CurrentPrincipal, PlatformModule, type Principal, type ServiceDefinition, ZodPipe, baseConfigSchema } from '@tessera/platform';
import { type TestService, startTestService } from '@tessera/testing';
import { z } from 'zod';
import { counterDecider, counterRegistry } from '../../test/counter';
import { CommandHandler } from '../command-handler';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { EventSourcingModule } from '../nest/event-sourcing.module';
import { PostgresEventStore } from '../event-store';
import { Idempotent } from './idempotent.interceptor';

@Controller('v1/counters')
class CounterController {
  constructor(@Inject(CommandHandler) private readonly commands: CommandHandler) {}

  @Post(':userId/increments')
  @Idempotent()
  async increment(@Param('userId') userId: string, @Body(new ZodPipe(z.strictObject({ by: z.number().int() }))) body: { by: number }, @CurrentPrincipal() principal: Principal) {
    const result = await this.commands.handle(counterDecider, { type: 'Increment', userId, by: body.by }, {
      streamId: `counter-${userId}`, partitionKey: userId, now: new Date(), metadata: { actor: { kind: 'user', id: principal.subject }, correlationId: 'c' },
    });
    return { total: result.state.total, version: result.version };
  }

  @Post(':userId/secrets')
  @Idempotent({ secretResponse: true })
  async secret(@Param('userId') userId: string) {
    await this.commands.handle(counterDecider, { type: 'Increment', userId, by: 1 }, {
      streamId: `secret-${userId}`, partitionKey: userId, now: new Date(), metadata: { actor: { kind: 'user', id: userId }, correlationId: 'c' },
    });
    return { code: 'shown-once-7f3a' };
  }
}

@Module({})
class CounterServiceModule {
  static register(resources: Parameters<ServiceDefinition<typeof baseConfigSchema>['rootModule']>[0]): DynamicModule {
    return { module: CounterServiceModule, imports: [PlatformModule.register(resources), EventSourcingModule.forService({ registry: counterRegistry() })], controllers: [CounterController] };
  }
}

const counterService: ServiceDefinition<typeof baseConfigSchema> = {
  name: 'counter-service', description: 'test service', version: '0', configSchema: baseConfigSchema,
  entities: [], migrations: [...EVENT_STORE_MIGRATIONS], rootModule: (resources) => CounterServiceModule.register(resources),
};

describe('idempotency keys on mutating calls', () => {
  let service: TestService<typeof baseConfigSchema>;
  let token: string;

  beforeAll(async () => {
    service = await startTestService(counterService);
    token = await service.token('user-1');
  });
  afterAll(() => service?.stop());

  const versionOf = async (streamId: string) => (await service.service.app.get(PostgresEventStore).readStream(streamId)).version;

  it('a retry with the same key and request gets the first answer and does not double the effect', async () => {
    const headers = { 'idempotency-key': 'retry-key-0001' };
    const first = await service.request('POST', '/v1/counters/alice/increments', { token, body: { by: 5 }, headers });
    const second = await service.request('POST', '/v1/counters/alice/increments', { token, body: { by: 5 }, headers });
    expect(first).toMatchObject({ status: 201, body: { total: 5, version: 1 } });
    expect(second).toMatchObject({ status: 201, body: { total: 5, version: 1 } });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await versionOf('counter-alice')).toBe(1);
  });

  it('parallel retries with one key apply the effect once', async () => {
    const headers = { 'idempotency-key': 'parallel-key-0001' };
    const answers = await Promise.all(Array.from({ length: 10 }, () => service.request('POST', '/v1/counters/bob/increments', { token, body: { by: 1 }, headers })));
    expect(answers.every((answer) => answer.status === 201 || (answer.status === 409 && answer.body.error.code === 'idempotency_key_in_use'))).toBe(true);
    expect(answers.filter((answer) => answer.status === 201).length).toBeGreaterThanOrEqual(1);
    expect(await versionOf('counter-bob')).toBe(1);
  });

  it('the same key with a different request is refused with 422 idempotency_key_reused', async () => {
    const headers = { 'idempotency-key': 'reused-key-0001' };
    await service.request('POST', '/v1/counters/carol/increments', { token, body: { by: 1 }, headers });
    const other = await service.request('POST', '/v1/counters/carol/increments', { token, body: { by: 2 }, headers });
    expect(other).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    expect(await versionOf('counter-carol')).toBe(1);
  });

  it('keys are per caller: another caller with the same key is a different request', async () => {
    const headers = { 'idempotency-key': 'shared-key-0001' };
    await service.request('POST', '/v1/counters/dave/increments', { token, body: { by: 1 }, headers });
    await service.request('POST', '/v1/counters/dave/increments', { token: await service.token('user-2'), body: { by: 1 }, headers });
    expect(await versionOf('counter-dave')).toBe(2);
  });

  it('S29: an answer holding a secret is never stored; a retry is told it was done, without the secret', async () => {
    const headers = { 'idempotency-key': 'secret-key-0001' };
    const first = await service.request('POST', '/v1/counters/erin/secrets', { token, headers });
    expect(first.body).toEqual({ code: 'shown-once-7f3a' });
    const retry = await service.request('POST', '/v1/counters/erin/secrets', { token, headers });
    expect(retry).toMatchObject({ status: 409, body: { error: { code: 'already_done_secret_withheld' } } });
    expect(JSON.stringify(retry.body)).not.toContain('shown-once');
    const stored = await service.service.resources.dataSource.query(`SELECT response_body::text AS body FROM idempotency_keys WHERE key = 'secret-key-0001'`);
    expect(stored).toEqual([{ body: null }]);
    expect(await versionOf('secret-erin')).toBe(1);
  });

  it('a malformed key is refused with 400 before anything happens', async () => {
    const answer = await service.request('POST', '/v1/counters/frank/increments', { token, body: { by: 1 }, headers: { 'idempotency-key': 'x' } });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_idempotency_key' } } });
    expect(await versionOf('counter-frank')).toBe(0);
  });
});
