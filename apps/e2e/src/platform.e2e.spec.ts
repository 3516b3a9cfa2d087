import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { Body, Controller, type DynamicModule, Get, Module, Post } from '@nestjs/common';
import { type TestService, createTestDatabase, freePort, kafkaBrokers, startTestService, testInfra } from '@tessera/testing';
import { z } from 'zod';
import { CurrentPrincipal, DevIssuer, PlatformModule, type PlatformResources, type Principal, RequireRoles, type ServiceDefinition, ZodPipe, baseConfigSchema } from '@tessera/platform';

@Controller('v1/echo')
class EchoController {
  @Post()
  echo(@Body(new ZodPipe(z.strictObject({ name: z.string().min(1).max(50), count: z.number().int() }))) body: { name: string; count: number }, @CurrentPrincipal() principal: Principal) {
    return { ...body, caller: principal.subject };
  }

  @Get('officers-only')
  @RequireRoles('security-officer')
  officers() {
    return { ok: true };
  }

  @Get('boom')
  boom(): never {
    throw new Error('database password=hunter2 leaked into an error');
  }
}

@Module({})
class EchoModule {
  static register(resources: PlatformResources): DynamicModule {
    return { module: EchoModule, imports: [PlatformModule.register(resources)], controllers: [EchoController] };
  }
}

const echoService: ServiceDefinition<typeof baseConfigSchema> = {
  name: 'echo-service', description: 'A service made of the platform alone', version: '1.2.3',
  configSchema: baseConfigSchema, entities: [], migrations: [], rootModule: (resources) => EchoModule.register(resources),
};

describe('the service platform (every Tessera service is built on it)', () => {
  let service: TestService<typeof baseConfigSchema>;
  const logLines: Record<string, unknown>[] = [];
  const logs = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });

  beforeAll(async () => {
    service = await startTestService(echoService, { env: { LOG_LEVEL: 'debug' }, logDestination: logs });
  });
  afterAll(() => service?.stop());

  it('answers liveness and readiness with its dependencies named', async () => {
    expect(await service.request('GET', '/health/live')).toMatchObject({ status: 200, body: { status: 'live' } });
    expect(await service.request('GET', '/health/ready')).toMatchObject({ status: 200, body: { status: 'ready', checks: { postgres: { status: 'up' }, kafka: { status: 'up' } } } });
  });

  it('exposes Prometheus metrics with request durations by route template', async () => {
    await service.request('GET', '/health/live');
    const metrics = await service.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const bucket = (metrics.body as string).split('\n').find((line) => line.startsWith('http_request_duration_seconds_bucket') && line.includes('route="/health/live"'));
    expect(bucket).toContain('service="echo-service"');
    expect(metrics.body).toContain('process_resident_memory_bytes');
  });

  it('serves its OpenAPI document and docs page', async () => {
    const document = await service.request('GET', '/docs/openapi.json');
    expect(document.body).toMatchObject({ openapi: expect.stringMatching(/^3\./), info: { title: 'Tessera echo-service', version: '1.2.3' } });
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/health/ready', '/v1/echo']));
    expect((await service.request('GET', '/docs')).status).toBe(200);
  });

  it('echoes a caller-supplied correlation id, mints one otherwise, and logs it on the request line as JSON', async () => {
    const token = await service.token('alice');
    const given = await service.request('POST', '/v1/echo', { token, body: { name: 'a', count: 1 }, headers: { 'x-correlation-id': 'support-ticket-42' } });
    expect(given.headers.get('x-correlation-id')).toBe('support-ticket-42');
    const minted = await service.request('GET', '/health/live');
    expect(minted.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const injected = await service.request('GET', '/health/live', { headers: { 'x-correlation-id': 'bad id <script>alert(1)</script>' } });
    expect(injected.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const line = logLines.find((entry) => entry.correlationId === 'support-ticket-42' && entry.message === 'request completed');
    expect(line).toMatchObject({ level: 'info', service: 'echo-service', http: { method: 'POST', route: '/v1/echo', status: '201' } });
  });

  describe('R7: bad input gets a 4xx with a machine-readable code, never a 5xx or a stack trace', () => {
    let token: string;
    beforeAll(async () => {
      token = await service.token('alice');
    });

    it.each([
      ['malformed JSON', { rawBody: '{"name": ' }, 400, 'malformed_json'],
      ['a wrong type', { body: { name: 'a', count: 'one' } }, 400, 'invalid_request'],
      ['a missing field', { body: { name: 'a' } }, 400, 'invalid_request'],
      ['an unknown field', { body: { name: 'a', count: 1, admin: true } }, 400, 'invalid_request'],
      ['a huge body', { body: { name: 'a', count: 1, pad: 'x'.repeat(200_000) } }, 413, 'payload_too_large'],
      ['a deeply nested body', { rawBody: `${'{"a":'.repeat(40)}1${'}'.repeat(40)}` }, 400, 'body_too_deep'],
    ])('%s', async (_what, input, status, code) => {
      const answer = await service.request('POST', '/v1/echo', { token, ...input });
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(typeof answer.body.error.message).toBe('string');
      expect(JSON.stringify(answer.body)).not.toMatch(/at \w+ \(|node_modules/);
    });

    it('names the fields that are wrong', async () => {
      const answer = await service.request('POST', '/v1/echo', { token, body: { name: '', count: 1.5 } });
      expect(answer.body.error.details.map((detail: { path: string }) => detail.path).sort()).toEqual(['count', 'name']);
    });

    it('an unknown route is a JSON 404', async () => {
      expect(await service.request('GET', '/v1/nothing-here', { token })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    });

    it('an unexpected failure is a 500 with no detail, and the detail stays out of the answer', async () => {
      const answer = await service.request('GET', '/v1/echo/boom', { token });
      expect(answer).toMatchObject({ status: 500, body: { error: { code: 'internal_error' } } });
      expect(JSON.stringify(answer.body)).not.toContain('hunter2');
    });
  });

  describe('callers', () => {
    it('a route needs a bearer token: 401 unauthenticated without one, or with a forged one', async () => {
      expect(await service.request('POST', '/v1/echo', { body: { name: 'a', count: 1 } })).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
      const stranger = await (await DevIssuer.generate('test')).token({ subject: 'mallory', roles: ['security-officer'] });
      expect(await service.request('GET', '/v1/echo/officers-only', { token: stranger })).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
      const expired = await service.issuer.token({ subject: 'alice', ttlSeconds: -120 });
      expect((await service.request('GET', '/v1/echo/officers-only', { token: expired })).status).toBe(401);
    });

    it('roles are checked per route: 403 forbidden for the wrong role', async () => {
      expect(await service.request('GET', '/v1/echo/officers-only', { token: await service.token('alice', ['user']) })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect(await service.request('GET', '/v1/echo/officers-only', { token: await service.token('olivia', ['security-officer']) })).toMatchObject({ status: 200 });
    });
  });
});

describe('a service process', () => {
  it('refuses to start with bad configuration, naming the variable and not its value', async () => {
    const { code, output } = await runProcess(['apps/auth-service/src/main.ts'], { DATABASE_URL: 'mysql://secret-password@db', KAFKA_BROKERS: '127.0.0.1:1', AUTH_JWKS_JSON: '{}' });
    expect(code).toBe(1);
    expect(output).toContain('DATABASE_URL');
    expect(output).not.toContain('secret-password');
  });

  it('stops gracefully on SIGTERM: it logs the signal, closes its connections and exits 0', async () => {
    const database = await createTestDatabase('shutdown');
    const port = await freePort();
    const issuer = await DevIssuer.generate('test');
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', '-r', '@swc-node/register', 'apps/auth-service/src/main.ts'], {
      cwd: testInfra().root,
      env: { ...process.env, NODE_OPTIONS: '', HTTP_PORT: String(port), GRPC_PORT: String(await freePort()), DATABASE_URL: database.url, KAFKA_BROKERS: kafkaBrokers().join(','), AUTH_JWKS_JSON: issuer.jwksJson(), LOG_LEVEL: 'info' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    try {
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const ready = await fetch(`${url}/health/ready`).then((r) => r.status, () => 0);
        if (ready === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
      expect(lines.some((line) => line.message === 'shutting down' && line.signal === 'SIGTERM')).toBe(true);
      expect(lines.some((line) => line.message === 'auth-service stopped')).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await database.drop();
    }
  });
});

function runProcess(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', ...args], { cwd: testInfra().root, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}
