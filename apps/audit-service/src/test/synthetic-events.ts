import { TOPICS, type Actor, type EventEnvelope } from '@tessera/contracts';
import type { SourcedEvent } from '../chain/chain-appender.service';

/**
 * A deterministic, mixed stream of contract-shaped events for tests and the benchmark: event `n` is
 * always the same event (ids, times, user), so tests can predict positions and contents. Shapes
 * follow the data schemas in @tessera/contracts (a unit test validates every kind against them).
 */
export interface SyntheticOptions {
  /** How many distinct users the events are spread over. */
  readonly users?: number;
  readonly topics?: { readonly auth: string; readonly devices: string; readonly recovery: string };
  /** The first event's time; event n happens n seconds later. */
  readonly startMs?: number;
}

export const SYNTHETIC_START_MS = Date.parse('2025-03-01T08:00:00.000Z');
export const STAFF = {
  helpdesk: { kind: 'helpdesk', id: 'staff-helpdesk-7' },
  officerA: { kind: 'security-officer', id: 'staff-officer-2' },
  officerB: { kind: 'security-officer', id: 'staff-officer-5' },
  system: { kind: 'system', id: 'recovery-orchestrator' },
} as const satisfies Record<string, Actor>;
const AAGUID = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

/** A lowercase UUID (v7 layout) derived from n and a kind, as the contracts require for ids. */
export function syntheticUuid(n: number, kind = 0): string {
  return `0195a000-${kind.toString(16).padStart(4, '0')}-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function syntheticUser(n: number, users = 40): string {
  // An integer hash (a 32-bit finaliser) spreads events over users independently of the event kind,
  // which cycles with n % 10: every user sees every kind.
  let x = n >>> 0;
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b);
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b);
  x = (x >>> 16) ^ x;
  return `user-${(x >>> 0) % users}`;
}

export function syntheticEvent(n: number, options: SyntheticOptions = {}): SourcedEvent {
  const topics = options.topics ?? { auth: TOPICS.auth, devices: TOPICS.devices, recovery: TOPICS.recovery };
  const userId = syntheticUser(n, options.users);
  const self: Actor = { kind: 'user', id: userId };
  const at = (options.startMs ?? SYNTHETIC_START_MS) + n * 1000;
  const when = new Date(at).toISOString();
  const make = (type: string, data: Record<string, unknown>, actor: Actor, source: string): SourcedEvent => ({
    source,
    event: { eventId: syntheticUuid(n, 0xe0), type, version: 1, streamId: `stream-${userId}`, occurredAt: when, actor, correlationId: `corr-${n}`, causationId: null, data } satisfies EventEnvelope,
  });
  switch (n % 10) {
    case 0:
      return make('WebAuthnCredentialRegistered', { userId, credentialId: syntheticUuid(n, 1), name: `Key ${n}`, aaguid: AAGUID, deviceBound: true, signCount: 0 }, self, topics.auth);
    case 1:
    case 2:
      return make('VerificationFailed', { userId, credentialId: null, kind: 'totp', reason: 'no_match', failedAt: when }, self, topics.auth);
    case 3:
      return make('VerificationSucceeded', { userId, credentialId: syntheticUuid(n, 1), kind: 'webauthn', aal: 2, amr: ['hwk', 'user'], timeStep: null, signCount: n }, self, topics.auth);
    case 4:
      return make(
        'RecoveryRequested',
        {
          recoveryId: `r-${n}`,
          userId,
          kind: 'assisted',
          requestedBy: { kind: 'helpdesk', id: STAFF.helpdesk.id, ticketReference: `HD-${n}` },
          requestedAt: when,
          riskSignals: ['new-device'],
          privileged: false,
          policyVersion: '2025.1',
          requiredApprovals: 2,
          evidenceDueBy: new Date(at + 86_400_000).toISOString(),
          lostFactorIds: [syntheticUuid(n, 1)],
          onCallPageRequired: false,
          postIncidentReviewRequired: false,
          forcedByIncidentId: null,
          drillId: null,
        },
        STAFF.helpdesk,
        topics.recovery,
      );
    case 5:
      return make(
        'RecoveryApproved',
        {
          recoveryId: `r-${n - 1}`,
          userId,
          approverId: STAFF.officerA.id,
          reason: `Verified ${userId} on a video call`,
          approvedAt: when,
          approvalsSoFar: 1,
          requiredApprovals: 2,
          quorumReached: false,
          policyVersion: '2025.1',
        },
        STAFF.officerA,
        topics.recovery,
      );
    case 6:
      return make('DeviceReportedLost', { userId, deviceId: syntheticUuid(n, 2), reason: 'lost', reportedAt: when }, self, topics.devices);
    case 7:
      return make(
        'RecoveryDrillFailed',
        {
          drillId: `drill-${n}`,
          recoveryId: `r-drill-${n}`,
          userId: 'drill-account-1',
          policyVersion: '2025.1',
          timerFactor: 60,
          startedAt: when,
          finishedAt: when,
          durationMs: 0,
          reason: 'deadline-passed',
          stageReached: 'awaiting-approval',
        },
        STAFF.system,
        topics.recovery,
      );
    case 8:
      return make('CredentialsFrozen', { userId, incidentId: `i-${n}`, reason: 'suspected SIM swap' }, STAFF.officerA, topics.auth);
    default:
      return make('DeviceRenamed', { userId, deviceId: syntheticUuid(n, 2), name: `Phone ${n}`, previousName: `Phone ${n - 10}` }, self, topics.devices);
  }
}
