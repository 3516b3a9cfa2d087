import { randomUUID } from 'node:crypto';
import { type TestService, startTestService, uniqueName } from '@tessera/testing';
import { runCli } from '../../../cli/src/cli';
import { COMMANDS } from '../../../cli/src/commands';
import { RecoveryOrchestratorDefinition, type recoveryOrchestratorConfigSchema } from '../service';
import { startFakeAuthServer, type FakeAuthServer } from '../testing/fake-auth-grpc.server';

let svc: TestService<typeof recoveryOrchestratorConfigSchema>;
let auth: FakeAuthServer;

beforeAll(async () => {
  auth = await startFakeAuthServer();
  svc = await startTestService(RecoveryOrchestratorDefinition, { env: { TEMPORAL_TASK_QUEUE: uniqueName('recovery-cli'), AUTH_GRPC_ADDRESS: auth.address } });
}, 120_000);
afterAll(async () => {
  await svc?.stop();
  await auth?.stop();
});

/** Runs `tessera …` as `subject` with `roles`; answers the exit code and what it printed. */
async function tessera(subject: string, roles: ('user' | 'helpdesk' | 'security-officer')[], ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const env = { TESSERA_RECOVERY_URL: svc.url, TESSERA_TOKEN: await svc.token(subject, roles) };
  const code = await runCli(argv, COMMANDS, { env, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('tessera recovery (CLI)', () => {
  it('a security team runs a recovery from the CLI: start, evidence, two approvals, show, list', async () => {
    const user = `user-${randomUUID().slice(0, 8)}`;
    const start = await tessera('agent-1', ['helpdesk'], 'recovery', 'start', '--user', user, '--reason', 'lost phone', '--ticket', 'HD-7', '--lost', 'factor-old-totp', '--json');
    expect(start).toMatchObject({ code: 0, stderr: '' });
    const { recoveryId } = JSON.parse(start.stdout) as { recoveryId: string };
    expect((await tessera('agent-1', ['helpdesk'], 'recovery', 'evidence', recoveryId, '--reference', 'HD-7')).code).toBe(0);
    expect((await tessera('officer-1', ['security-officer'], 'recovery', 'approve', recoveryId, '--reason', 'video call')).stdout).toContain('awaiting-approval');
    const second = await tessera('officer-2', ['security-officer'], 'recovery', 'approve', recoveryId, '--reason', 'video call');
    expect(second.stdout).toMatch(new RegExp(`${recoveryId}\\s+${user}\\s+assisted\\s+cooling-off\\s+approvals 2/2\\s+waiting for cooling-off until`));
    const shown = await tessera('officer-1', ['security-officer'], 'recovery', 'show', recoveryId);
    expect(shown.stdout.split('\n').filter((l) => l.includes('Recovery'))).toHaveLength(5);
    expect((await tessera('officer-1', ['security-officer'], 'recovery', 'list', '--state', 'cooling-off', '--user', user)).stdout).toContain(recoveryId);
    expect((await tessera(user, ['user'], 'recovery', 'mine', '--user', user)).stdout).toContain(recoveryId);
  });

  it('bad input and wrong roles get a clear error and start nothing', async () => {
    const user = `user-${randomUUID().slice(0, 8)}`;
    const missing = await tessera('agent-1', ['helpdesk'], 'recovery', 'start', '--user', user, '--ticket', 'HD');
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('error: usage: --reason is required') });
    const badKind = await tessera('agent-1', ['helpdesk'], 'recovery', 'start', '--user', user, '--reason', 'r', '--kind', 'sideways');
    expect(badKind.code).toBe(2);
    const unknownOption = await tessera('agent-1', ['helpdesk'], 'recovery', 'start', '--user', user, '--reason', 'r', '--cooling-off', '0s');
    expect(unknownOption.code).toBe(2);
    const helpdeskBreakGlass = await tessera('agent-1', ['helpdesk'], 'recovery', 'start', '--user', user, '--reason', 'r', '--ticket', 'T', '--kind', 'break-glass');
    expect(helpdeskBreakGlass).toMatchObject({ code: 1, stderr: expect.stringContaining('error: forbidden:') });
    const userList = await tessera(user, ['user'], 'recovery', 'list');
    expect(userList).toMatchObject({ code: 1, stderr: expect.stringContaining('error: forbidden:') });
    const badId = await tessera('officer-1', ['security-officer'], 'recovery', 'approve', '../../etc', '--reason', 'x');
    expect(badId.code).toBe(2);
    const unknown = await tessera('officer-1', ['security-officer'], 'recovery', 'approve', randomUUID(), '--reason', 'x');
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('error: recovery_not_found:') });
    const badDecision = await tessera('officer-1', ['security-officer'], 'recovery', 'decide', 'incident-1', '--decision', 'maybe', '--reason', 'x');
    expect(badDecision.code).toBe(2);
    const listed = await tessera('officer-1', ['security-officer'], 'recovery', 'list', '--user', user, '--json');
    expect(JSON.parse(listed.stdout)).toEqual({ recoveries: [] });
  });

  it('freeze and unfreeze from the CLI', async () => {
    const user = `user-${randomUUID().slice(0, 8)}`;
    const frozen = await tessera('officer-1', ['security-officer'], 'recovery', 'freeze', '--user', user, '--reason', 'suspicious sign-ins');
    expect(frozen.stdout).toMatch(new RegExp(`\\S+\\s+${user}\\s+frozen`));
    expect((await tessera('officer-1', ['security-officer'], 'recovery', 'incidents', '--user', user, '--status', 'open')).stdout).toContain('frozen');
    const start = await tessera('agent-1', ['helpdesk'], 'recovery', 'start', '--user', user, '--reason', 'r', '--ticket', 'T');
    expect(start.stderr).toContain('error: account_frozen:');
    expect((await tessera('officer-2', ['security-officer'], 'recovery', 'unfreeze', '--user', user, '--reason', 'false alarm')).stdout).toContain('unfrozen');
  });
});
