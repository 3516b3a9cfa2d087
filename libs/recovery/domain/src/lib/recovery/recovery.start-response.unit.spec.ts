import { DomainError } from '@tessera/event-sourcing';
import { publicRecoveryStartResponse } from './recovery.start-response';

describe('the public answer to a self-service recovery start', () => {
  it('S27: is the same whether the account exists, is frozen, or is unknown', () => {
    const started = publicRecoveryStartResponse({ outcome: 'started', recoveryId: '01950000-0000-7000-8000-00000000a001' });
    const frozen = publicRecoveryStartResponse({ outcome: 'refused', error: new DomainError('account_frozen', 'The account is frozen by incident incident-9', 'forbidden') });
    const unknown = publicRecoveryStartResponse({ outcome: 'unknown-account' });
    expect(frozen).toEqual(started);
    expect(unknown).toEqual(started);
    expect(started.httpStatus).toBe(202);
  });

  it('S27: never carries the recovery id, the refusal code or its message', () => {
    const body = JSON.stringify(publicRecoveryStartResponse({ outcome: 'refused', error: new DomainError('account_frozen', 'frozen by incident-9', 'forbidden') }));
    expect(body).not.toMatch(/account_frozen|incident-9|01950000/);
    expect(JSON.stringify(publicRecoveryStartResponse({ outcome: 'started', recoveryId: '01950000-0000-7000-8000-00000000a001' }))).not.toContain('01950000');
  });
});
