import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '@tessera/event-sourcing';
import { fakeActivities } from '../testing/fake-ports';
import { InMemoryLedger } from '../testing/in-memory-ledger';

/** How the pass activity answers auth-service's refusals: which end the recovery, which are retried. */
describe('issueTemporaryAccessPass activity', () => {
  const issuing = (error: Error) => {
    const { activities, world } = fakeActivities(new InMemoryLedger());
    world.auth.issueTemporaryAccessPass = async () => {
      throw error;
    };
    return activities.issueTemporaryAccessPass({ recoveryId: 'rec-1', userId: 'user-1', lifetimeSeconds: 3600 });
  };

  it.each(['auth_delivery_failed', 'auth_delivery_unavailable'])('retries a pass auth-service stored but could not deliver (%s): the recovery waits, visibly, instead of failing', async (code) => {
    const failure = await issuing(new DomainError(code, 'the email could not be delivered', 'conflict')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(ApplicationFailure);
    expect((failure as Error).message).toContain(code);
  });

  it('passes any other refusal on as final (non-retryable, with its code)', async () => {
    const failure = await issuing(new DomainError('auth_account_frozen', 'frozen', 'conflict')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ nonRetryable: true, details: ['auth_account_frozen', 'conflict', 'frozen'] });
  });
});
