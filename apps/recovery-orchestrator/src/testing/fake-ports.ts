// Test support: typed fakes of the ports the recovery activities use, recording every call.
import { randomUUID } from 'node:crypto';
import { DomainError } from '@tessera/event-sourcing';
import pino from 'pino';
import { createRecoveryActivities, type DrillRunner } from '../temporal/recovery.activities';
import type { AuthPort, DevicesPort, IdentityVerifierPort, PagerPort, UserNotifierPort } from '../ports/ports';
import type { ContactDirectory } from '../ports/webhook.adapters';
import type { RecoveryLedgerPort } from '../recoveries/recovery-ledger';

export class FakeAuth implements AuthPort {
  readonly calls: { method: string; input: unknown }[] = [];
  factors = ['factor-old-totp', 'factor-old-key'];
  /** The pass secrets auth-service would send the user: a test checks none reaches workflow history (S32). */
  readonly passSecrets: string[] = [];
  /** Set to hold the next pass issuance until released (to race a cancel against it). */
  holdIssue: Promise<void> | null = null;
  verifyAnswer: { method: string; credentialId: string } | Error = { method: 'totp', credentialId: 'factor-old-totp' };

  private record(method: string, input: unknown) {
    this.calls.push({ method, input });
  }

  called(method: string): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.input);
  }

  async listFactors(userId: string) {
    this.record('listFactors', { userId });
    return { factors: this.factors.map((factorId) => ({ factorId, kind: 'totp', status: 'active', createdAt: null })), frozen: false };
  }
  async verify(input: Parameters<AuthPort['verify']>[0]) {
    this.record('verify', { userId: input.userId, method: input.method });
    if (this.verifyAnswer instanceof Error) throw this.verifyAnswer;
    return this.verifyAnswer;
  }
  async revokeCredential(input: Parameters<AuthPort['revokeCredential']>[0]) {
    this.record('revokeCredential', input);
  }
  async freezeAccount(input: Parameters<AuthPort['freezeAccount']>[0]) {
    this.record('freezeAccount', input);
  }
  async unfreezeAccount(input: Parameters<AuthPort['unfreezeAccount']>[0]) {
    this.record('unfreezeAccount', input);
  }
  async issueTemporaryAccessPass(input: Parameters<AuthPort['issueTemporaryAccessPass']>[0]) {
    this.record('issueTemporaryAccessPass', { ...input });
    if (this.holdIssue) await this.holdIssue;
    this.passSecrets.push(`TAP-${randomUUID()}`);
    return { passId: randomUUID() };
  }
  async revokeTemporaryAccessPass(input: Parameters<AuthPort['revokeTemporaryAccessPass']>[0]) {
    this.record('revokeTemporaryAccessPass', input);
  }
}

export class FakePager implements PagerPort {
  readonly pages: Parameters<PagerPort['page']>[0][] = [];
  readonly reminders: Parameters<PagerPort['remind']>[0][] = [];
  async page(input: Parameters<PagerPort['page']>[0]) {
    this.pages.push(input);
    return { pageReference: `PAGE-${this.pages.length}` };
  }
  async remind(input: Parameters<PagerPort['remind']>[0]) {
    this.reminders.push(input);
  }
}

export class FakeVerifier implements IdentityVerifierPort {
  outcomes = new Map<string, 'passed' | 'failed'>();
  async outcome(input: { reference: string }) {
    const outcome = this.outcomes.get(input.reference);
    if (!outcome) throw new DomainError('idv_check_unknown', 'unknown check', 'invalid');
    return outcome;
  }
}

export class FakeDevices implements DevicesPort {
  readonly revoked: string[] = [];
  async revokeDevice(input: { deviceId: string }) {
    this.revoked.push(input.deviceId);
  }
}

export class FakeNotifier implements UserNotifierPort {
  readonly notices: { userId: string; notice: string; idempotencyKey: string; endsAt: Date | null }[] = [];
  async notify(input: Parameters<UserNotifierPort['notify']>[0]) {
    this.notices.push({ userId: input.userId, notice: input.notice, idempotencyKey: input.idempotencyKey, endsAt: input.endsAt });
  }
  sent(userId?: string): string[] {
    return this.notices.filter((notice) => userId === undefined || notice.userId === userId).map((notice) => notice.notice);
  }
}

export const fakeContacts: ContactDirectory = { channelsOf: async () => [{ kind: 'email', address: 'subject@example.org' }] };

export interface FakeWorld {
  readonly auth: FakeAuth;
  readonly pager: FakePager;
  readonly verifier: FakeVerifier;
  readonly devices: FakeDevices;
  readonly notifier: FakeNotifier;
  readonly forced: unknown[];
}

/** The real activities over the given ledger and fresh fakes. */
export function fakeActivities(ledger: RecoveryLedgerPort, drills?: DrillRunner, notifier?: UserNotifierPort) {
  const world: FakeWorld = { auth: new FakeAuth(), pager: new FakePager(), verifier: new FakeVerifier(), devices: new FakeDevices(), notifier: new FakeNotifier(), forced: [] };
  const noDrills: DrillRunner = {
    start: async () => {
      throw new DomainError('drills_not_configured', 'no drills here', 'invalid');
    },
    drive: async () => undefined,
    record: async () => {
      throw new DomainError('drills_not_configured', 'no drills here', 'invalid');
    },
  };
  const activities = createRecoveryActivities({
    ledger,
    auth: world.auth,
    pager: world.pager,
    identityVerifier: world.verifier,
    devices: world.devices,
    notifier: notifier ?? world.notifier,
    contacts: fakeContacts,
    drills: drills ?? noDrills,
    logger: pino({ level: 'silent' }),
    startForcedRecovery: async (input) => {
      world.forced.push(input);
    },
  });
  return { activities, world };
}
