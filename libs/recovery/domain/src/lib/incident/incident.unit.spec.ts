import { deciderSpec } from '@tessera/testing';
import { fold } from '@tessera/event-sourcing';
import { at, HOUR, isoAt, RECOVERY_ID, requestRecovery, SUBJECT, T0 } from '../../testing/recovery-fixtures';
import { recoveryDecider } from '../recovery/recovery.decide';
import {
  type ForceAssistedRecovery,
  incidentDecider,
  type IncidentCommand,
  type RecordIncidentPage,
  type ReportSuspectedCompromise,
  type RevokeDevices,
  type UnfreezeAccount,
} from './incident.decide';
import { accountFreezeOf, type IncidentEvent } from './incident.state';

const spec = deciderSpec(incidentDecider);
const recoverySpec = deciderSpec(recoveryDecider);
const INCIDENT_ID = 'incident-9';
const OFFICER = 'officer-1';

const report = (overrides: Partial<ReportSuspectedCompromise['data']> = {}, now = T0): ReportSuspectedCompromise => ({
  type: 'ReportSuspectedCompromise',
  data: { incidentId: INCIDENT_ID, userId: SUBJECT, source: 'wasnt-me-link', reportedBy: { kind: 'user', id: SUBJECT }, recoveryId: RECOVERY_ID, ...overrides },
  metadata: { now },
});
const revokeDevices = (deviceIds: readonly string[], now = at(HOUR)): RevokeDevices => ({
  type: 'RevokeDevices',
  data: { incidentId: INCIDENT_ID, deviceIds },
  metadata: { now },
});
const page = (now = at(HOUR)): RecordIncidentPage => ({ type: 'RecordIncidentPage', data: { incidentId: INCIDENT_ID, pageReference: 'PAGE-77' }, metadata: { now } });
const unfreeze = (decidedBy = OFFICER, roles: readonly string[] = ['security-officer'], now = at(2 * HOUR)): UnfreezeAccount => ({
  type: 'UnfreezeAccount',
  data: { incidentId: INCIDENT_ID, decidedBy, deciderRoles: roles, reason: 'The report was a mistaken click' },
  metadata: { now },
});
const force = (decidedBy = OFFICER, now = at(2 * HOUR)): ForceAssistedRecovery => ({
  type: 'ForceAssistedRecovery',
  data: { incidentId: INCIDENT_ID, decidedBy, deciderRoles: ['security-officer'], reason: 'Attacker holds the enrolled phone', recoveryId: RECOVERY_ID },
  metadata: { now },
});

const opened: IncidentEvent[] = [
  { type: 'IncidentOpened', data: { incidentId: INCIDENT_ID, userId: SUBJECT, source: 'wasnt-me-link', reportedBy: { kind: 'user', id: SUBJECT }, recoveryId: RECOVERY_ID, openedAt: T0.toISOString() } },
  { type: 'AccountFrozen', data: { incidentId: INCIDENT_ID, userId: SUBJECT, frozenAt: T0.toISOString() } },
];
const forced: IncidentEvent[] = [
  ...opened,
  {
    type: 'AssistedRecoveryForced',
    data: { incidentId: INCIDENT_ID, userId: SUBJECT, recoveryId: RECOVERY_ID, decidedBy: OFFICER, reason: 'Attacker holds the enrolled phone', decidedAt: isoAt(2 * HOUR) },
  },
];
const unfrozen: IncidentEvent[] = [
  ...opened,
  { type: 'AccountUnfrozen', data: { incidentId: INCIDENT_ID, userId: SUBJECT, decidedBy: OFFICER, reason: 'The report was a mistaken click', unfrozenAt: isoAt(2 * HOUR) } },
];
const freezeAfter = (events: readonly IncidentEvent[]) => accountFreezeOf(fold(incidentDecider, events));

describe('incident decider', () => {
  describe('when no incident is open', () => {
    it('a suspected compromise opens the incident and freezes the account in the same decision', () => {
      spec.given([]).when(report()).then(opened);
    });

    it('staff may report any account; a user only their own', () => {
      const [event] = spec
        .given([])
        .when(report({ source: 'security-team', reportedBy: { kind: 'security-officer', id: OFFICER }, recoveryId: null }))
        .thenEvents();
      expect(event).toMatchObject({ type: 'IncidentOpened', data: { source: 'security-team', recoveryId: null } });
      spec
        .given([])
        .when(report({ reportedBy: { kind: 'user', id: 'user-other' } }))
        .thenThrows('reporter_not_subject');
    });

    it('nothing else happens to an incident that does not exist', () => {
      spec.given([]).when(unfreeze()).thenThrows('incident_not_found');
    });
  });

  describe('when the account is frozen', () => {
    it('revokes the chosen devices', () => {
      spec
        .given(opened)
        .when(revokeDevices(['device-phone', 'device-laptop']))
        .then([{ type: 'IncidentDevicesRevoked', data: { incidentId: INCIDENT_ID, userId: SUBJECT, deviceIds: ['device-phone', 'device-laptop'], revokedAt: isoAt(HOUR) } }]);
    });

    it('a retried revocation records only devices not yet revoked', () => {
      const revoked: IncidentEvent[] = [
        ...opened,
        { type: 'IncidentDevicesRevoked', data: { incidentId: INCIDENT_ID, userId: SUBJECT, deviceIds: ['device-phone'], revokedAt: isoAt(HOUR) } },
      ];
      spec.given(revoked).when(revokeDevices(['device-phone'])).then([]);
      const [event] = spec.given(revoked).when(revokeDevices(['device-phone', 'device-tablet'])).thenEvents();
      expect(event).toMatchObject({ data: { deviceIds: ['device-tablet'] } });
    });

    it('refuses a revocation naming no device', () => {
      spec.given(opened).when(revokeDevices([])).thenThrows('device_ids_required');
    });

    it('records that on-call was paged, once', () => {
      spec
        .given(opened)
        .when(page())
        .then([{ type: 'IncidentOnCallPaged', data: { incidentId: INCIDENT_ID, userId: SUBJECT, pageReference: 'PAGE-77', pagedAt: isoAt(HOUR) } }]);
      spec.given([...opened, ...spec.given(opened).when(page()).thenEvents()]).when(page(at(2 * HOUR))).then([]);
    });

    it('a security officer unfreezes with a reason', () => {
      spec.given(opened).when(unfreeze()).then([unfrozen[2]]);
    });

    it('a security officer forces an assisted recovery', () => {
      spec.given(opened).when(force()).then([forced[2]]);
    });

    it('the subject cannot lift the freeze on their own account', () => {
      spec.given(opened).when(unfreeze(SUBJECT)).thenThrows('decider_is_subject');
    });

    it('only a security officer decides', () => {
      spec.given(opened).when(unfreeze(OFFICER, ['helpdesk'])).thenThrows('decider_role_not_allowed');
    });

    it('a decision needs a reason', () => {
      const command = unfreeze();
      spec
        .given(opened)
        .when({ ...command, data: { ...command.data, reason: '' } })
        .thenThrows('reason_required');
    });

    it('the incident is reported once', () => {
      spec.given(opened).when(report()).thenThrows('incident_already_open');
    });

    it('refuses every recovery while frozen', () => {
      const freeze = freezeAfter(opened);
      expect(freeze).toEqual({ incidentId: INCIDENT_ID, forcedRecoveryId: null });
      recoverySpec.given([]).when(requestRecovery({ accountFreeze: freeze })).thenThrows('account_frozen');
      recoverySpec.given([]).when(requestRecovery({ kind: 'break-glass', accountFreeze: freeze })).thenThrows('account_frozen');
    });
  });

  describe('when an assisted recovery was forced', () => {
    it('lets only that assisted recovery through the freeze', () => {
      const freeze = freezeAfter(forced);
      expect(freeze).toEqual({ incidentId: INCIDENT_ID, forcedRecoveryId: RECOVERY_ID });
      const [event] = recoverySpec.given([]).when(requestRecovery({ accountFreeze: freeze })).thenEvents();
      expect(event).toMatchObject({ type: 'RecoveryRequested', data: { forcedByIncidentId: INCIDENT_ID } });
      recoverySpec
        .given([])
        .when(requestRecovery({ recoveryId: 'another-recovery', accountFreeze: freeze }))
        .thenThrows('account_frozen');
    });

    it('a second decision to force is refused', () => {
      spec.given(forced).when(force()).thenThrows('decision_already_made');
    });

    it('the account can still be unfrozen and devices revoked', () => {
      expect(spec.given(forced).when(unfreeze()).thenEvents()).toHaveLength(1);
      expect(spec.given(forced).when(revokeDevices(['device-phone'])).thenEvents()).toHaveLength(1);
    });
  });

  describe('when unfrozen', () => {
    it('recoveries are allowed again', () => {
      expect(freezeAfter(unfrozen)).toBeNull();
      expect(recoverySpec.given([]).when(requestRecovery({ accountFreeze: freezeAfter(unfrozen) })).thenEvents()).toHaveLength(1);
    });

    it.each<[string, IncidentCommand]>([
      ['RevokeDevices', revokeDevices(['device-phone'])],
      ['RecordIncidentPage', page()],
      ['UnfreezeAccount', unfreeze()],
      ['ForceAssistedRecovery', force()],
    ])('refuses %s: the incident is closed', (_name, command) => {
      spec.given(unfrozen).when(command).thenThrows('incident_closed');
    });
  });
});
