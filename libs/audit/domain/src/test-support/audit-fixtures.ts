import { generateKeyPairSync } from 'node:crypto';
import { type Actor, AUTH_EVENT_SCHEMAS, DEVICE_EVENT_SCHEMAS, type EventEnvelope, RECOVERY_EVENT_SCHEMAS } from '@tessera/contracts';
import { toAuditEntry } from '../lib/audit-entry';
import { type AuditRecord, sealAuditEntry } from '../lib/audit-record';
import { type SignedCheckpoint, createCheckpoint } from '../lib/checkpoint';
import { type ChainHead, GENESIS_HEAD, appendToChain, headOf } from '../lib/hash-chain';
import { type DataKey, type DataKeyLookup, type DataKeyState, createDataKey } from '../lib/personal-data';
import { type RevealedAuditRecord, revealRecord } from '../lib/reveal';
import { type CheckpointSigner, type PublicKeyRing } from '../lib/signing-keys';

/**
 * Test support, not part of the public surface: an in-memory data-key store and a builder that
 * runs events through the same path the audit service will (map, seal, append, checkpoint).
 */

export const BASE_TIME_MS = Date.parse('2025-03-01T08:00:00.000Z');

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function eventId(n: number): string {
  return `0195a000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** A deterministic lowercase UUID (v7 layout) for ids the contracts require to be UUIDs. */
export function uuid(n: number, kind = 0): string {
  return `0195a000-${kind.toString(16).padStart(4, '0')}-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

const CONTRACT_SCHEMAS: readonly Readonly<Record<string, { safeParse(data: unknown): { success: boolean } }>>[] = [AUTH_EVENT_SCHEMAS, DEVICE_EVENT_SCHEMAS, RECOVERY_EVENT_SCHEMAS];

/**
 * Fixtures use the producers' real shapes: a `data` for a contract event type must pass that
 * type's schema (on any topic that declares it). `contract: false` marks the few fixtures that
 * deliberately carry fields no contract has (secrets that must be dropped, client addresses that
 * producers do not send yet).
 */
function assertContractShape(type: string, data: Record<string, unknown>): void {
  const schemas = CONTRACT_SCHEMAS.filter((map) => Object.hasOwn(map, type)).map((map) => map[type]);
  if (schemas.length > 0 && !schemas.some((schema) => schema.safeParse(data).success)) {
    throw new Error(`fixture data for ${type} does not match its contract schema`);
  }
}

let envelopeCounter = 0;

export interface EnvelopeOptions {
  readonly at?: number;
  readonly n?: number;
  readonly correlationId?: string;
  readonly contract?: boolean;
}

export function envelope(type: string, data: Record<string, unknown>, actor: Actor, options: EnvelopeOptions = {}): EventEnvelope {
  if (options.contract !== false) assertContractShape(type, data);
  const n = options.n ?? ++envelopeCounter;
  return {
    eventId: eventId(n),
    type,
    version: 1,
    streamId: `stream-${typeof data['userId'] === 'string' ? data['userId'] : 'global'}`,
    occurredAt: iso(options.at ?? BASE_TIME_MS + n * 1000),
    actor,
    correlationId: options.correlationId ?? `corr-${n}`,
    causationId: null,
    data,
  };
}

/** The key store the audit service keeps beside the log: user id → key id, key id → key or tombstone. */
export class InMemoryDataKeys {
  private readonly byUser = new Map<string, string>();
  private readonly byKeyId = new Map<string, DataKeyState>();

  keyFor(userId: string): DataKey {
    const keyId = this.byUser.get(userId);
    if (keyId !== undefined) {
      const state = this.byKeyId.get(keyId);
      if (state?.status === 'active') return { keyId, key: state.key };
    }
    const created = createDataKey();
    this.byUser.set(userId, created.keyId);
    this.byKeyId.set(created.keyId, { status: 'active', keyId: created.keyId, key: created.key });
    return created;
  }

  keyIdOf(userId: string): string | undefined {
    return this.byUser.get(userId);
  }

  /** Erasure: the key becomes a tombstone and the user → key id link goes. */
  destroy(userId: string, at: string): void {
    const keyId = this.byUser.get(userId);
    if (keyId === undefined) return;
    this.byKeyId.set(keyId, { status: 'destroyed', keyId, destroyedAt: at });
    this.byUser.delete(userId);
  }

  readonly lookup: DataKeyLookup = (keyId) => this.byKeyId.get(keyId);
}

export interface SigningFixture {
  readonly signer: CheckpointSigner;
  readonly publicKeys: PublicKeyRing;
}

export function signingFixture(keyId = 'audit-cp-1'): SigningFixture {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { signer: { keyId, privateKey }, publicKeys: new Map([[keyId, publicKey]]) };
}

/** Appends envelopes one by one, checkpointing every `every` records, as the service will. */
export class ChainBuilder {
  readonly records: AuditRecord[] = [];
  readonly checkpoints: SignedCheckpoint[] = [];
  private head: ChainHead = GENESIS_HEAD;
  private lastCheckpointTo = 0;

  constructor(
    readonly keys: InMemoryDataKeys,
    private readonly signing: SigningFixture,
    private readonly every: number,
  ) {}

  append(event: EventEnvelope, source = 'tessera.auth.v1'): AuditRecord {
    const entry = toAuditEntry(event, { source, recordedAt: iso(Date.parse(event.occurredAt) + 250) });
    const key = entry.dataSubjectId === null ? null : this.keys.keyFor(entry.dataSubjectId);
    const record = appendToChain(this.head, sealAuditEntry(entry, key));
    this.records.push(record);
    this.head = headOf(record);
    if (record.position % this.every === 0) {
      this.checkpoints.push(createCheckpoint({ previousToPosition: this.lastCheckpointTo, head: this.head, createdAt: record.recordedAt }, this.signing.signer));
      this.lastCheckpointTo = record.position;
    }
    return record;
  }

  revealed(): RevealedAuditRecord[] {
    return this.records.map((record) => revealRecord(record, this.keys.lookup));
  }
}

const USERS = 40;
export const STAFF = {
  helpdesk: { kind: 'helpdesk', id: 'staff-helpdesk-7' },
  officerA: { kind: 'security-officer', id: 'staff-officer-2' },
  officerB: { kind: 'security-officer', id: 'staff-officer-5' },
  system: { kind: 'system', id: 'recovery-orchestrator' },
} as const satisfies Record<string, Actor>;
export const POLICY_VERSION = '2025.1';
const AAGUID = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

/** A mixed stream in the contracts' shapes: every `n` maps to one event, deterministic apart from key material. */
export function syntheticEvent(n: number): { event: EventEnvelope; source: string } {
  const userId = `user-${(n * 7) % USERS}`;
  const self: Actor = { kind: 'user', id: userId };
  const at = BASE_TIME_MS + n * 1000;
  const when = iso(at);
  const auth = 'tessera.auth.v1';
  const devices = 'tessera.devices.v1';
  const recovery = 'tessera.recovery.v1';
  switch (n % 10) {
    case 0:
      return {
        event: envelope('WebAuthnCredentialRegistered', { userId, credentialId: uuid(n, 1), name: `Key ${n}`, aaguid: AAGUID, deviceBound: true, signCount: 0 }, self, { at, n }),
        source: auth,
      };
    case 1:
    case 2:
      return { event: envelope('VerificationFailed', { userId, credentialId: null, kind: 'totp', reason: 'no_match', failedAt: when }, self, { at, n }), source: auth };
    case 3:
      return {
        event: envelope('VerificationSucceeded', { userId, credentialId: uuid(n, 1), kind: 'webauthn', aal: 2, amr: ['hwk', 'user'], timeStep: null, signCount: n }, self, { at, n }),
        source: auth,
      };
    case 4:
      return {
        event: envelope(
          'RecoveryRequested',
          {
            recoveryId: `r-${n}`,
            userId,
            kind: 'assisted',
            requestedBy: { kind: 'helpdesk', id: STAFF.helpdesk.id, ticketReference: `HD-${n}` },
            requestedAt: when,
            riskSignals: ['new-device'],
            privileged: false,
            policyVersion: POLICY_VERSION,
            requiredApprovals: 2,
            evidenceDueBy: iso(at + 86_400_000),
            lostFactorIds: [uuid(n, 1)],
            onCallPageRequired: false,
            postIncidentReviewRequired: false,
            forcedByIncidentId: null,
            drillId: null,
          },
          STAFF.helpdesk,
          { at, n },
        ),
        source: recovery,
      };
    case 5:
      return {
        event: envelope(
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
            policyVersion: POLICY_VERSION,
          },
          STAFF.officerA,
          { at, n },
        ),
        source: recovery,
      };
    case 6:
      return { event: envelope('DeviceReportedLost', { userId, deviceId: uuid(n, 2), reason: 'lost', reportedAt: when }, self, { at, n }), source: devices };
    case 7:
      return {
        event: envelope(
          'RecoveryDrillFailed',
          {
            drillId: `drill-${n}`,
            recoveryId: `r-drill-${n}`,
            userId: 'drill-account-1',
            policyVersion: POLICY_VERSION,
            timerFactor: 60,
            startedAt: when,
            finishedAt: when,
            durationMs: 0,
            reason: 'deadline-passed',
            stageReached: 'awaiting-approval',
          },
          STAFF.system,
          { at, n },
        ),
        source: recovery,
      };
    case 8:
      return { event: envelope('CredentialsFrozen', { userId, incidentId: `i-${n}`, reason: 'suspected SIM swap' }, STAFF.officerA, { at, n }), source: auth };
    default:
      return { event: envelope('SessionPinged', { userId, anything: 'dropped' }, { kind: 'service', id: 'auth-service' }, { at, n }), source: auth };
  }
}

export function buildChain(count: number, every: number, signing: SigningFixture = signingFixture()): ChainBuilder {
  const builder = new ChainBuilder(new InMemoryDataKeys(), signing, every);
  for (let n = 1; n <= count; n++) {
    const { event, source } = syntheticEvent(n);
    builder.append(event, source);
  }
  return builder;
}
