import { assertNever, type Decider, DomainError } from '@tessera/event-sourcing';
import { evolveIncident, type IncidentEvent, type IncidentFrozen, type IncidentRecoveryForced, type IncidentState, initialIncidentState } from './incident.state';

export interface IncidentCommandMetadata {
  readonly now: Date;
}

type Command<Type extends string, Data> = {
  readonly type: Type;
  readonly data: Data & { readonly incidentId: string };
  readonly metadata: IncidentCommandMetadata;
};

export type IncidentReporter = { readonly kind: 'user' | 'helpdesk' | 'security-officer' | 'system'; readonly id: string };

export type ReportSuspectedCompromise = Command<
  'ReportSuspectedCompromise',
  {
    readonly userId: string;
    readonly source: 'wasnt-me-link' | 'user-report' | 'security-team' | 'anomaly-detection';
    readonly reportedBy: IncidentReporter;
    /** The recovery whose "this wasn't me" link raised the alarm, if any. */
    readonly recoveryId: string | null;
  }
>;
/** The devices the security team chose; sessions are revoked with the freeze itself. */
export type RevokeDevices = Command<'RevokeDevices', { readonly deviceIds: readonly string[] }>;
/** On-call was paged through the signed webhook (an activity); this records that it happened. */
export type RecordIncidentPage = Command<'RecordIncidentPage', { readonly pageReference: string }>;
export type UnfreezeAccount = Command<'UnfreezeAccount', { readonly decidedBy: string; readonly deciderRoles: readonly string[]; readonly reason: string }>;
/** The decision that the account must be recovered: exactly one assisted recovery, with this id, gets through the freeze. */
export type ForceAssistedRecovery = Command<
  'ForceAssistedRecovery',
  { readonly decidedBy: string; readonly deciderRoles: readonly string[]; readonly reason: string; readonly recoveryId: string }
>;

export type IncidentCommand = ReportSuspectedCompromise | RevokeDevices | RecordIncidentPage | UnfreezeAccount | ForceAssistedRecovery;

/** Who may end a freeze or force a recovery (DESIGN.md: the security team decides). */
export const INCIDENT_DECISION_ROLES: readonly string[] = ['security-officer'];

export function decideIncident(command: IncidentCommand, state: IncidentState): readonly IncidentEvent[] {
  const now = command.metadata.now.toISOString();
  if (command.type === 'ReportSuspectedCompromise') return report(command, state, now);
  if (state.status === 'none') throw new DomainError('incident_not_found', 'No such incident', 'not_found');
  if (command.data.incidentId !== state.incidentId) {
    throw new DomainError('incident_mismatch', `Command for incident ${command.data.incidentId} sent to incident ${state.incidentId}`, 'invalid');
  }
  if (state.status === 'unfrozen') throw new DomainError('incident_closed', 'The incident is decided and the account unfrozen');
  if (state.status === 'opened') throw new DomainError('incident_not_frozen', 'The incident has not frozen the account yet');
  const ids = { incidentId: state.incidentId, userId: state.userId };

  switch (command.type) {
    case 'RevokeDevices': {
      const requested = [...new Set(command.data.deviceIds)];
      if (requested.length === 0 || requested.some((id) => id.trim() === '')) throw new DomainError('device_ids_required', 'Name the devices to revoke', 'invalid');
      // A retried revocation records only devices not already revoked.
      const deviceIds = requested.filter((id) => !state.revokedDeviceIds.includes(id));
      return deviceIds.length === 0 ? [] : [{ type: 'IncidentDevicesRevoked', data: { ...ids, deviceIds, revokedAt: now } }];
    }
    case 'RecordIncidentPage':
      if (command.data.pageReference.trim() === '') throw new DomainError('page_reference_required', 'pageReference is required', 'invalid');
      if (state.onCallPagedAt !== null) return [];
      return [{ type: 'IncidentOnCallPaged', data: { ...ids, pageReference: command.data.pageReference, pagedAt: now } }];
    case 'UnfreezeAccount':
      assertDecider(state, command.data.decidedBy, command.data.deciderRoles, command.data.reason);
      return [{ type: 'AccountUnfrozen', data: { ...ids, decidedBy: command.data.decidedBy, reason: command.data.reason.trim(), unfrozenAt: now } }];
    case 'ForceAssistedRecovery':
      if (state.status !== 'frozen') throw new DomainError('decision_already_made', 'This incident already forced a recovery');
      assertDecider(state, command.data.decidedBy, command.data.deciderRoles, command.data.reason);
      if (command.data.recoveryId.trim() === '') throw new DomainError('recovery_id_required', 'recoveryId is required', 'invalid');
      return [
        {
          type: 'AssistedRecoveryForced',
          data: { ...ids, recoveryId: command.data.recoveryId, decidedBy: command.data.decidedBy, reason: command.data.reason.trim(), decidedAt: now },
        },
      ];
    default:
      return assertNever(command);
  }
}

export const incidentDecider: Decider<IncidentCommand, IncidentEvent, IncidentState> = {
  decide: decideIncident,
  evolve: evolveIncident,
  initialState: initialIncidentState,
};

/**
 * Opening an incident freezes the account in the same decision: there is no moment in which the
 * incident exists and the account can still change factors or start a recovery.
 */
function report(command: ReportSuspectedCompromise, state: IncidentState, now: string): IncidentEvent[] {
  if (state.status !== 'none') throw new DomainError('incident_already_open', 'This incident was already reported');
  const { incidentId, userId, source, reportedBy, recoveryId } = command.data;
  if ([incidentId, userId, reportedBy.id].some((value) => value.trim() === '')) throw new DomainError('invalid_command', 'incidentId, userId and reportedBy.id are required', 'invalid');
  if (reportedBy.kind === 'user' && reportedBy.id !== userId) {
    throw new DomainError('reporter_not_subject', "A user can report a compromise of their own account only; staff report others'", 'forbidden');
  }
  return [
    { type: 'IncidentOpened', data: { incidentId, userId, source, reportedBy: { kind: reportedBy.kind, id: reportedBy.id }, recoveryId, openedAt: now } },
    { type: 'AccountFrozen', data: { incidentId, userId, frozenAt: now } },
  ];
}

/** A security officer other than the subject decides; the subject cannot lift a freeze on their own account. */
function assertDecider(state: IncidentFrozen | IncidentRecoveryForced, decidedBy: string, roles: readonly string[], reason: string): void {
  if (decidedBy.trim() === '') throw new DomainError('invalid_command', 'decidedBy is required', 'invalid');
  if (decidedBy === state.userId) throw new DomainError('decider_is_subject', 'The subject cannot decide their own incident', 'forbidden');
  if (!roles.some((role) => INCIDENT_DECISION_ROLES.includes(role))) {
    throw new DomainError('decider_role_not_allowed', `Deciding needs one of the roles: ${INCIDENT_DECISION_ROLES.join(', ')}`, 'forbidden');
  }
  if (reason.trim() === '') throw new DomainError('reason_required', 'A decision needs a reason', 'invalid');
}
