import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '@tessera/event-sourcing';
import { DOMAIN_ERROR_TYPE, type RecoveryActivities } from '@tessera/recovery-workflows';
import type { Logger } from 'pino';
import type { ContactDirectory } from '../ports/webhook.adapters';
import type { AuthPort, DevicesPort, IdentityVerifierPort, PagerPort, UserNotifierPort } from '../ports/ports';
import type { RecoveryLedgerPort } from '../recoveries/recovery-ledger';

/** What the drill activities need; the drill service implements it. */
export interface DrillRunner {
  start(drillId: string, now: Date): ReturnType<RecoveryActivities['startDrillRecovery']>;
  drive(input: Parameters<RecoveryActivities['driveDrillRecovery']>[0]): Promise<void>;
  record(drillId: string, recoveryId: string, now: Date): ReturnType<RecoveryActivities['recordDrillOutcome']>;
}

/** Starts the recovery an incident forced (the recovery starter). */
export type ForcedRecoveryStarter = (input: Parameters<RecoveryActivities['startForcedRecovery']>[0]) => Promise<void>;

export interface RecoveryActivityPorts {
  readonly ledger: RecoveryLedgerPort;
  readonly auth: AuthPort;
  readonly pager: PagerPort;
  readonly identityVerifier: IdentityVerifierPort;
  readonly devices: DevicesPort;
  readonly notifier: UserNotifierPort;
  readonly contacts: ContactDirectory;
  readonly startForcedRecovery: ForcedRecoveryStarter;
  readonly drills: DrillRunner;
  readonly logger: Logger;
}

/** auth-service's codes for a pass it stored but could not deliver (its delivery failed or is not configured). */
const UNDELIVERED: ReadonlySet<string> = new Set(['auth_delivery_failed', 'auth_delivery_unavailable']);

/** The key a retried activity reuses, so a command reaching auth-service twice has its effect once. */
function attemptKey(suffix: string): string {
  const info = Context.current().info;
  return `${info.workflowExecution?.workflowId}:${info.workflowExecution?.runId}:${info.activityId}:${suffix}`.slice(0, 200);
}

/** The decider's "no" becomes a non-retryable failure carrying its code; everything else is retried. */
async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) {
      throw ApplicationFailure.create({ type: DOMAIN_ERROR_TYPE, message: error.message, details: [error.code, error.kind, error.message], nonRetryable: true });
    }
    throw error;
  }
}

/**
 * The activities of the recovery workflows (STYLE.md: a factory that takes its ports). Each is
 * idempotent: decisions are keyed by the attempt (workflow run + activity id) and commands to other
 * services carry an idempotency key derived from it.
 */
export function createRecoveryActivities(ports: RecoveryActivityPorts): RecoveryActivities {
  const { ledger, auth, pager, identityVerifier, devices, notifier, drills } = ports;
  return {
    loadRecovery: ({ recoveryId, mustExist }) =>
      refusing(async () => {
        const view = await ledger.view(recoveryId);
        // Retryable: the transaction that stores the request may not have committed yet.
        if (mustExist && view.status === 'not-requested') throw new Error(`recovery ${recoveryId} is not stored (yet)`);
        return view;
      }),

    applyRecoveryStep: ({ recoveryId, policyVersion, now, actor, correlationId, step }) =>
      refusing(() => ledger.applyStep(recoveryId, policyVersion, step, { now: new Date(now), actor, correlationId, causationId: attemptKey('step') })),

    verifyIdentity: ({ recoveryId, reference }) =>
      refusing(async () => ({ outcome: await identityVerifier.outcome({ recoveryId, reference, idempotencyKey: attemptKey('idv') }) })),

    issueTemporaryAccessPass: ({ recoveryId, userId, lifetimeSeconds }) =>
      // One pass per recovery, whatever retries: the key is the recovery's, not the attempt's.
      refusing(async () => {
        // Email first: SMS is a restricted channel (NIST SP 800-63B-4 §3.1.3.3).
        const channels = await ports.contacts.channelsOf(userId);
        const target = channels.find((channel) => channel.kind === 'email') ?? channels.find((channel) => channel.kind === 'sms');
        if (!target) throw new Error(`user ${userId} has no email or SMS channel for the pass; add one to the contact directory`);
        const delivery = { channel: target.kind as 'email' | 'sms', address: target.address };
        try {
          return await auth.issueTemporaryAccessPass({ userId, recoveryId, idempotencyKey: `recovery:${recoveryId}:tap`, lifetimeSeconds, delivery });
        } catch (error) {
          // A pass auth-service could not deliver (mail server down or misconfigured) is not the end of
          // the recovery: it is retried, visibly to on-call, until delivery works (auth-service drops
          // the undelivered pass, so the retry sends a new one).
          if (error instanceof DomainError && UNDELIVERED.has(error.code)) throw new Error(`the pass for recovery ${recoveryId} was not delivered (${error.code}); retrying`);
          throw error;
        }
      }),

    revokeTemporaryAccessPass: ({ recoveryId, userId, passId }) => refusing(() => auth.revokeTemporaryAccessPass({ userId, passId, idempotencyKey: `recovery:${recoveryId}:tap-revoke:${passId}` })),

    listFactorIds: ({ userId }) =>
      refusing(async () => (await auth.listFactors(userId)).factors.filter((factor) => factor.status !== 'revoked').map((factor) => factor.factorId)),

    revokeFactors: ({ userId, referenceId, factorIds, reason }) =>
      refusing(async () => {
        for (const credentialId of factorIds) {
          await auth.revokeCredential({ userId, credentialId, idempotencyKey: `${reason}:${referenceId}:revoke:${credentialId}`, reason, recoveryId: referenceId });
        }
      }),

    freezeAccount: ({ userId, incidentId, reason }) => refusing(() => auth.freezeAccount({ userId, incidentId, idempotencyKey: `incident:${incidentId}:freeze`, reason })),
    unfreezeAccount: ({ userId, incidentId }) => refusing(() => auth.unfreezeAccount({ userId, incidentId, idempotencyKey: `incident:${incidentId}:unfreeze` })),

    revokeDevices: ({ userId, incidentId, deviceIds }) =>
      refusing(async () => {
        for (const deviceId of deviceIds) await devices.revokeDevice({ userId, deviceId, incidentId, idempotencyKey: `incident:${incidentId}:device:${deviceId}` });
      }),

    pageOnCall: ({ subject, id, userId, summary }) =>
      refusing(() =>
        pager.page({
          reason: subject === 'incident' ? 'incident' : 'break-glass-recovery',
          reference: id,
          subjectUserId: userId,
          summary,
          raisedAt: new Date(),
          idempotencyKey: `${subject}:${id}:page`,
        }),
      ),

    notifyUser: ({ userId, recoveryId, notice, noticeKey, at }) =>
      refusing(() => notifier.notify({ userId, subjectId: recoveryId, notice, idempotencyKey: noticeKey.slice(0, 200), at: new Date(), endsAt: at === null ? null : new Date(at) })),

    notifyStaff: ({ notice, recoveryId, userId, noticeKey }) =>
      refusing(() => pager.remind({ notice, recoveryId, userId, idempotencyKey: noticeKey.slice(0, 200), raisedAt: new Date() })),

    loadIncident: ({ incidentId }) =>
      refusing(async () => {
        const view = await ledger.incidentView(incidentId);
        if (view.status === 'none') throw new Error(`incident ${incidentId} is not stored (yet)`);
        return view;
      }),

    applyIncidentStep: ({ incidentId, now, actor, correlationId, step }) =>
      refusing(() => ledger.applyIncidentStep(incidentId, step, { now: new Date(now), actor, correlationId, causationId: attemptKey('incident') })),

    startForcedRecovery: (input) => refusing(() => ports.startForcedRecovery(input)),

    startDrillRecovery: ({ drillId, now }) => refusing(() => drills.start(drillId, new Date(now))),
    driveDrillRecovery: (input) => refusing(() => drills.drive(input)),
    recordDrillOutcome: ({ drillId, recoveryId, now }) => refusing(() => drills.record(drillId, recoveryId, new Date(now))),
  };
}
