import { type RecoveryEventOf } from '@tessera/contracts';
import { assertNever } from '@tessera/event-sourcing';
import { type AccountFreeze } from '../recovery/recovery.commands';

/**
 * An incident's events, state and `evolve` (DESIGN.md "Incident response"): a suspected compromise
 * freezes the account at once (no factor changes, no recoveries), devices are revoked, on-call is
 * paged, and the account stays frozen until a security officer decides.
 */
export type IncidentOpened = RecoveryEventOf<'IncidentOpened'>;
export type AccountFrozen = RecoveryEventOf<'AccountFrozen'>;
export type IncidentDevicesRevoked = RecoveryEventOf<'IncidentDevicesRevoked'>;
export type IncidentOnCallPaged = RecoveryEventOf<'IncidentOnCallPaged'>;
export type AccountUnfrozen = RecoveryEventOf<'AccountUnfrozen'>;
export type AssistedRecoveryForced = RecoveryEventOf<'AssistedRecoveryForced'>;

export type IncidentEvent = IncidentOpened | AccountFrozen | IncidentDevicesRevoked | IncidentOnCallPaged | AccountUnfrozen | AssistedRecoveryForced;

export interface IncidentFacts {
  readonly incidentId: string;
  readonly userId: string;
  readonly source: IncidentOpened['data']['source'];
  readonly reportedBy: IncidentOpened['data']['reportedBy'];
  readonly recoveryId: string | null;
  readonly openedAt: string;
  readonly revokedDeviceIds: readonly string[];
  readonly onCallPagedAt: string | null;
}

export interface NoIncident {
  readonly status: 'none';
}
/** Opened but not yet frozen: never observed outside one decision, and treated as frozen regardless. */
export type IncidentOpenedState = IncidentFacts & { readonly status: 'opened' };
export type IncidentFrozen = IncidentFacts & { readonly status: 'frozen'; readonly frozenAt: string };
/** Still frozen, except for the one assisted recovery the decision let through. */
export type IncidentRecoveryForced = IncidentFacts & {
  readonly status: 'recovery-forced';
  readonly frozenAt: string;
  readonly forcedRecoveryId: string;
  readonly decidedBy: string;
};
export type IncidentUnfrozen = IncidentFacts & { readonly status: 'unfrozen'; readonly unfrozenAt: string; readonly decidedBy: string };

export type IncidentState = NoIncident | IncidentOpenedState | IncidentFrozen | IncidentRecoveryForced | IncidentUnfrozen;

export const initialIncidentState = (): IncidentState => ({ status: 'none' });

/** The account is frozen while an incident is open and undecided, or decided for a forced recovery. */
export function accountFreezeOf(state: IncidentState): AccountFreeze | null {
  switch (state.status) {
    case 'none':
    case 'unfrozen':
      return null;
    case 'opened':
    case 'frozen':
      return { incidentId: state.incidentId, forcedRecoveryId: null };
    case 'recovery-forced':
      return { incidentId: state.incidentId, forcedRecoveryId: state.forcedRecoveryId };
    default:
      return assertNever(state);
  }
}

export function evolveIncident(state: IncidentState, event: IncidentEvent): IncidentState {
  switch (event.type) {
    case 'IncidentOpened': {
      if (state.status !== 'none') return state;
      const { incidentId, userId, source, reportedBy, recoveryId, openedAt } = event.data;
      return { status: 'opened', incidentId, userId, source, reportedBy, recoveryId, openedAt, revokedDeviceIds: [], onCallPagedAt: null };
    }
    case 'AccountFrozen':
      return state.status === 'opened' ? { ...state, status: 'frozen', frozenAt: event.data.frozenAt } : state;
    case 'IncidentDevicesRevoked':
      if (state.status !== 'frozen' && state.status !== 'recovery-forced') return state;
      return { ...state, revokedDeviceIds: [...state.revokedDeviceIds, ...event.data.deviceIds] };
    case 'IncidentOnCallPaged':
      if (state.status !== 'frozen' && state.status !== 'recovery-forced') return state;
      return { ...state, onCallPagedAt: event.data.pagedAt };
    case 'AssistedRecoveryForced':
      if (state.status !== 'frozen') return state;
      return { ...state, status: 'recovery-forced', forcedRecoveryId: event.data.recoveryId, decidedBy: event.data.decidedBy };
    case 'AccountUnfrozen':
      if (state.status !== 'frozen' && state.status !== 'recovery-forced') return state;
      return { ...state, status: 'unfrozen', unfrozenAt: event.data.unfrozenAt, decidedBy: event.data.decidedBy };
    default:
      return assertNever(event);
  }
}
