import { Readiness } from './readiness';

describe('readiness', () => {
  it('is ready while every dependency answers', async () => {
    const readiness = new Readiness();
    readiness.register({ name: 'postgres', check: async () => undefined });
    readiness.register({ name: 'kafka', check: async () => undefined });
    expect(await readiness.evaluate()).toEqual({ ready: true, checks: { postgres: { status: 'up' }, kafka: { status: 'up' } } });
  });

  it('is not ready when one dependency fails, and says which and why', async () => {
    const readiness = new Readiness();
    readiness.register({ name: 'postgres', check: async () => undefined });
    readiness.register({ name: 'kafka', check: async () => Promise.reject(new Error('connection refused')) });
    expect(await readiness.evaluate()).toEqual({ ready: false, checks: { postgres: { status: 'up' }, kafka: { status: 'down', error: 'connection refused' } } });
  });

  it('is not ready when a dependency does not answer within the timeout', async () => {
    const readiness = new Readiness(50);
    readiness.register({ name: 'temporal', check: () => new Promise<void>(() => undefined) });
    const result = await readiness.evaluate();
    expect(result.ready).toBe(false);
    expect(result.checks.temporal).toEqual({ status: 'down', error: 'no answer within 50 ms' });
  });

  it('stops being ready as soon as shutdown begins, so load balancers drain it', async () => {
    const readiness = new Readiness();
    readiness.register({ name: 'postgres', check: async () => undefined });
    readiness.beginShutdown();
    expect(await readiness.evaluate()).toMatchObject({ ready: false, checks: { shutdown: { status: 'down' } } });
  });
});
