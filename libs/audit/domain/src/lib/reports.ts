import { type AuditActor } from './audit-record';
import { type AuditOutcome } from './catalogue';
import { type Erased, personalValue } from './personal-data';
import { actorOf, reasonOf, type RevealedActor, type RevealedAuditRecord } from './reveal';

/**
 * Compliance reports as pure folds over revealed records (read in position order). They name
 * people by the ids in the records; once a subject's key is destroyed their personal fields read
 * as `{ erased: true }` and the rows remain, which is what an auditor needs: the action happened,
 * who approved it, and that the personal details were erased.
 */

// ---------------------------------------------------------------------------------------------
// Recoveries

export type RecoveryStatus = 'open' | 'completed' | 'cancelled' | 'rejected' | 'expired';

export interface RecoveryApproval {
  readonly position: number;
  readonly approver: RevealedActor;
  readonly at: string;
  /** The approver's written justification: sealed with the subject's data, so erased with it. */
  readonly reason: string | Erased | null;
}

export interface RecoveryEvidence {
  readonly position: number;
  /** How identity was re-verified (`idv-webhook`, `helpdesk-attestation`). */
  readonly kind: string | null;
  /** Where the evidence is kept; the evidence itself is never in the log. */
  readonly reference: string | null;
  /** The helpdesk member who attested, for an attestation. */
  readonly attestedBy: string | null;
  readonly passed: boolean;
  readonly recordedBy: RevealedActor;
  readonly at: string;
}

export interface RecoveryDurations {
  readonly toFirstApprovalMs: number | null;
  /** Until the approval that reached the required number. */
  readonly toQuorumMs: number | null;
  readonly coolingOffMs: number | null;
  /** Until completion, cancellation, rejection or expiry. */
  readonly totalMs: number | null;
}

export interface RecoveryReportRow {
  readonly recoveryId: string;
  readonly subjectRef: string | null;
  readonly status: RecoveryStatus;
  readonly breakGlass: boolean;
  readonly requestedAt: string | null;
  readonly requestedBy: RevealedActor | null;
  readonly ticket: string | null;
  readonly policyVersion: string | null;
  readonly requiredApprovals: number | null;
  readonly approvals: readonly RecoveryApproval[];
  readonly rejections: readonly RecoveryApproval[];
  readonly evidence: readonly RecoveryEvidence[];
  readonly coolingOffStartedAt: string | null;
  readonly passIssuedAt: string | null;
  readonly endedAt: string | null;
  readonly durations: RecoveryDurations;
  /** Every record that contributed, for drilling into the log. */
  readonly positions: readonly number[];
}

interface RecoveryDraft {
  recoveryId: string;
  subjectRef: string | null;
  status: RecoveryStatus;
  breakGlass: boolean;
  requestedAt: string | null;
  requestedBy: RevealedActor | null;
  ticket: string | null;
  policyVersion: string | null;
  requiredApprovals: number | null;
  approvals: RecoveryApproval[];
  rejections: RecoveryApproval[];
  evidence: RecoveryEvidence[];
  coolingOffStartedAt: string | null;
  quorumAt: string | null;
  passIssuedAt: string | null;
  endedAt: string | null;
  positions: number[];
}

const ENDINGS: Readonly<Record<string, RecoveryStatus>> = {
  RecoveryCompleted: 'completed',
  RecoveryCancelled: 'cancelled',
  RecoveryRejected: 'rejected',
  RecoveryExpired: 'expired',
};

/**
 * One row per recovery id, from every record that carries one (the recovery's own events and the
 * factor changes it caused). Approvers are the approver ids the orchestrator recorded, which are
 * staff ids and stay readable after the subject is erased.
 */
export function recoveryReport(records: Iterable<RevealedAuditRecord>): RecoveryReportRow[] {
  const drafts = new Map<string, RecoveryDraft>();
  for (const revealed of records) {
    const { record } = revealed;
    const recoveryId = record.details['recoveryId'];
    if (typeof recoveryId !== 'string') continue;
    let draft = drafts.get(recoveryId);
    if (draft === undefined) {
      draft = {
        recoveryId,
        subjectRef: record.subjectRef,
        status: 'open',
        breakGlass: false,
        requestedAt: null,
        requestedBy: null,
        ticket: null,
        policyVersion: null,
        requiredApprovals: null,
        approvals: [],
        rejections: [],
        evidence: [],
        coolingOffStartedAt: null,
        quorumAt: null,
        passIssuedAt: null,
        endedAt: null,
        positions: [],
      };
      drafts.set(recoveryId, draft);
    }
    draft.positions.push(record.position);
    draft.ticket ??= record.ticket;
    const policyVersion = record.details['policyVersion'];
    if (typeof policyVersion === 'string') draft.policyVersion = policyVersion;
    const required = record.details['requiredApprovals'];
    if (typeof required === 'number') draft.requiredApprovals = required;

    const at = record.occurredAt;
    switch (record.eventType) {
      case 'RecoveryRequested':
        draft.requestedAt = at;
        draft.requestedBy = actorOf(revealed);
        draft.breakGlass = record.details['kind'] === 'break-glass';
        break;
      case 'RecoveryEvidenceRecorded':
        draft.evidence.push({
          position: record.position,
          kind: textDetail(record.details['verifier.kind']),
          reference: textDetail(record.details['verifier.reference']),
          attestedBy: textDetail(record.details['verifier.attestedBy']),
          passed: record.details['outcome'] === 'passed',
          recordedBy: actorOf(revealed),
          at,
        });
        break;
      case 'RecoveryApproved':
        draft.approvals.push({ position: record.position, approver: approverOf(revealed, 'approverId'), at, reason: reasonOf(revealed) });
        if (draft.quorumAt === null && (record.details['quorumReached'] === true || (draft.requiredApprovals !== null && draft.approvals.length >= draft.requiredApprovals))) {
          draft.quorumAt = at;
        }
        break;
      case 'RecoveryRejected':
        draft.rejections.push({ position: record.position, approver: approverOf(revealed, 'rejectedBy'), at, reason: reasonOf(revealed) });
        break;
      case 'RecoveryCoolingOffStarted':
        draft.coolingOffStartedAt = at;
        break;
      case 'TemporaryAccessPassIssued':
        draft.passIssuedAt = at;
        break;
    }
    const ending = ENDINGS[record.eventType];
    if (ending !== undefined && draft.status === 'open') {
      draft.status = ending;
      draft.endedAt = at;
    }
  }
  return [...drafts.values()].map(finishRecovery);
}

/** The staff id the event names (`approverId`, `rejectedBy`), else whoever the envelope says acted. */
function approverOf(revealed: RevealedAuditRecord, field: string): RevealedActor {
  const named = revealed.record.details[field];
  const actor = actorOf(revealed);
  return typeof named === 'string' ? { kind: actor.kind, id: named } : actor;
}

function finishRecovery(draft: RecoveryDraft): RecoveryReportRow {
  const { quorumAt, ...row } = draft;
  const coolingOffEnd = draft.passIssuedAt ?? draft.endedAt;
  return {
    ...row,
    durations: {
      toFirstApprovalMs: between(draft.requestedAt, draft.approvals[0]?.at ?? null),
      toQuorumMs: between(draft.requestedAt, quorumAt),
      coolingOffMs: between(draft.coolingOffStartedAt, coolingOffEnd),
      totalMs: between(draft.requestedAt, draft.endedAt),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Administrative actions

const PRIVILEGED_KINDS: ReadonlySet<AuditActor['kind']> = new Set(['admin', 'helpdesk', 'security-officer']);

export interface AdminActionRow {
  readonly position: number;
  readonly occurredAt: string;
  readonly eventType: string;
  readonly outcome: AuditOutcome;
  readonly actor: RevealedActor;
  readonly subjectRef: string | null;
  readonly ticket: string | null;
  readonly reason: string | Erased | null;
  readonly reasonCode: string | null;
  readonly correlationId: string;
}

/** Every action in the `admin` category and every action taken by a helpdesk, security-officer or admin actor. */
export function adminActionsReport(records: Iterable<RevealedAuditRecord>): AdminActionRow[] {
  const rows: AdminActionRow[] = [];
  for (const revealed of records) {
    const { record } = revealed;
    if (record.category !== 'admin' && !PRIVILEGED_KINDS.has(record.actor.kind)) continue;
    rows.push({
      position: record.position,
      occurredAt: record.occurredAt,
      eventType: record.eventType,
      outcome: record.outcome,
      actor: actorOf(revealed),
      subjectRef: record.subjectRef,
      ticket: record.ticket,
      reason: reasonOf(revealed),
      reasonCode: record.reasonCode,
      correlationId: record.correlationId,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Factor changes

export interface FactorChangeRow {
  readonly position: number;
  readonly occurredAt: string;
  readonly eventType: string;
  readonly subjectRef: string | null;
  readonly actor: RevealedActor;
  readonly factorKind: string | null;
  readonly factorId: string | null;
  readonly deviceId: string | null;
  /** Set when the change happened inside a recovery. */
  readonly recoveryId: string | null;
}

export function factorChangesReport(records: Iterable<RevealedAuditRecord>): FactorChangeRow[] {
  const rows: FactorChangeRow[] = [];
  for (const revealed of records) {
    const { record } = revealed;
    if (record.category !== 'factor-change') continue;
    rows.push({
      position: record.position,
      occurredAt: record.occurredAt,
      eventType: record.eventType,
      subjectRef: record.subjectRef,
      actor: actorOf(revealed),
      factorKind: textDetail(record.details['factorKind'] ?? record.details['kind'] ?? record.details['factor']),
      factorId: textDetail(record.details['factorId'] ?? record.details['credentialId']),
      deviceId: textDetail(record.details['deviceId']),
      recoveryId: textDetail(record.details['recoveryId']),
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Spikes of failed verifications

export interface SpikeOptions {
  /** Length of the sliding window. */
  readonly windowMs: number;
  /** A spike is a window holding at least this many failures. */
  readonly threshold: number;
}

export type SpikeKey = { readonly kind: 'subject'; readonly subjectRef: string } | { readonly kind: 'address'; readonly clientAddress: string };

export interface FailedVerificationSpike {
  readonly key: SpikeKey;
  /** First failure of the burst. */
  readonly from: string;
  /** Last failure of the burst. */
  readonly to: string;
  /** The most failures seen in any one window during the burst. */
  readonly peakCount: number;
  /** Failures from `from` to `to`. */
  readonly failures: number;
}

/**
 * Failed verifications counted in a sliding window per subject and per client address (S8, S9:
 * an address is throttled long before an account, so both views matter). Overlapping windows over
 * the threshold merge into one spike. Erased or unreadable addresses count only per subject.
 */
export function failedVerificationSpikes(records: Iterable<RevealedAuditRecord>, options: SpikeOptions): FailedVerificationSpike[] {
  if (!(options.windowMs > 0) || !Number.isInteger(options.threshold) || options.threshold < 1) {
    throw new RangeError('spike options: windowMs must be positive and threshold a positive integer');
  }
  const series = new Map<string, { key: SpikeKey; times: number[] }>();
  const add = (id: string, key: SpikeKey, time: number): void => {
    const entry = series.get(id) ?? { key, times: [] };
    entry.times.push(time);
    series.set(id, entry);
  };
  for (const revealed of records) {
    const { record } = revealed;
    if (record.category !== 'verification' || record.outcome !== 'failure') continue;
    const time = Date.parse(record.occurredAt);
    if (Number.isNaN(time)) continue;
    if (record.subjectRef !== null) add(`s:${record.subjectRef}`, { kind: 'subject', subjectRef: record.subjectRef }, time);
    const address = personalValue(revealed.personal, 'clientAddress');
    if (typeof address === 'string') add(`a:${address}`, { kind: 'address', clientAddress: address }, time);
  }

  const spikes: FailedVerificationSpike[] = [];
  for (const { key, times } of series.values()) {
    times.sort((a, b) => a - b);
    let open: { from: number; to: number; fromIndex: number; toIndex: number; peak: number } | null = null;
    let low = 0;
    for (let i = 0; i < times.length; i++) {
      while (times[i] - times[low] >= options.windowMs) low++;
      const count = i - low + 1;
      if (count < options.threshold) continue;
      if (open !== null && times[low] <= open.to) {
        open.to = times[i];
        open.toIndex = i;
        open.peak = Math.max(open.peak, count);
      } else {
        if (open !== null) spikes.push(toSpike(key, open));
        open = { from: times[low], to: times[i], fromIndex: low, toIndex: i, peak: count };
      }
    }
    if (open !== null) spikes.push(toSpike(key, open));
  }
  return spikes.sort((a, b) => a.from.localeCompare(b.from));
}

function toSpike(key: SpikeKey, open: { from: number; to: number; fromIndex: number; toIndex: number; peak: number }): FailedVerificationSpike {
  return { key, from: new Date(open.from).toISOString(), to: new Date(open.to).toISOString(), peakCount: open.peak, failures: open.toIndex - open.fromIndex + 1 };
}

function textDetail(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function between(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? null : ms;
}
