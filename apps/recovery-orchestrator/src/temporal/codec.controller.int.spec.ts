import { defaultPayloadConverter } from '@temporalio/common';
import { startTestService, type TestService, uniqueName } from '@tessera/testing';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../service';
import { startFakeAuthServer, type FakeAuthServer } from '../testing/fake-auth-grpc.server';
import { CodecController } from './codec.controller';
import { SEALED_ENCODING, temporalDataConverter } from './payload-codec';

const UI_ORIGIN = 'http://127.0.0.1:8233';
const toWire = (payload: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});

/** The remote codec the development Temporal Web UI calls to show sealed payloads (S32), e.g. a recovery's memo. */
describe('codec endpoint for the Temporal Web UI', () => {
  let svc: TestService<typeof recoveryOrchestratorConfigSchema>;
  let auth: FakeAuthServer;

  beforeAll(async () => {
    auth = await startFakeAuthServer();
    svc = await startTestService(RecoveryOrchestratorDefinition, {
      env: { TEMPORAL_TASK_QUEUE: uniqueName('recovery-codec-endpoint'), AUTH_GRPC_ADDRESS: auth.address, AUTH_EVENTS_CONSUMER: uniqueName('auth-link') },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await auth?.stop();
  });

  const sealed = async (value: unknown) => {
    const [codec] = temporalDataConverter(svc.service.resources.config).payloadCodecs!;
    const [payload] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
    return payload;
  };
  const decode = (body: unknown, headers: Record<string, string> = { origin: UI_ORIGIN }) =>
    fetch(`${svc.url}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('S32: opens a sealed payload (a memo: reason and policy) for the UI, answering CORS to the UI origin only', async () => {
    const memo = { reason: 'lost phone', policyVersion: 'local-1' };
    const payload = await sealed(memo);
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe(SEALED_ENCODING);
    expect(Buffer.from(payload.data!).toString('latin1')).not.toContain('lost phone');

    const response = await decode({ payloads: [toWire(payload)] }, { origin: UI_ORIGIN, 'x-namespace': svc.service.resources.config.TEMPORAL_NAMESPACE });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const { payloads } = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    const opened = { metadata: Object.fromEntries(Object.entries(payloads[0].metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')])), data: Buffer.from(payloads[0].data, 'base64') };
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual(memo);

    const elsewhere = await decode({ payloads: [toWire(payload)] }, { origin: 'https://evil.example' });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${svc.url}/codec/decode`, { method: 'OPTIONS', headers: { origin: UI_ORIGIN } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
  });

  it('passes unsealed payloads through, and refuses a tampered one, another namespace and a malformed body with a 4xx and a code', async () => {
    const plain = defaultPayloadConverter.toPayload('plain');
    const through = await decode({ payloads: [toWire(plain)] });
    expect(((await through.json()) as { payloads: unknown[] }).payloads).toEqual([toWire(plain)]);

    const payload = await sealed({ reason: 'x' });
    const tampered = Buffer.from(payload.data!);
    tampered[tampered.length - 1] ^= 1;
    const refused = await decode({ payloads: [toWire({ ...payload, data: tampered })] });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: { code: 'undecodable_payload' } });

    const otherNamespace = await decode({ payloads: [toWire(payload)] }, { 'x-namespace': 'someone-else' });
    expect(otherNamespace.status).toBe(400);
    expect(await otherNamespace.json()).toMatchObject({ error: { code: 'unknown_namespace' } });

    for (const body of [{}, { payloads: 'x' }, { payloads: [{ data: 'not base64!' }] }]) {
      const bad = await decode(body);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
  });

  it('is not there in production', async () => {
    const controller = new CodecController({ ...svc.service.resources.config, TESSERA_ENV: 'production' }, temporalDataConverter({ TESSERA_ENV: 'test' }));
    await expect(controller.decode({ payloads: [] }, { headers: {} } as never, { setHeader: () => undefined } as never)).rejects.toMatchObject({ status: 404 });
  });
});
