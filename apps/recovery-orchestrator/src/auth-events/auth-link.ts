import type { AuthEvent } from '@tessera/contracts';
import type { Principal } from '@tessera/platform';
import type { RecoveryStep } from '@tessera/recovery-workflows';
import { RECOVERY_ENROL_SCOPE } from '../recoveries/recoveries.controller';

/**
 * The auth-service facts a recovery waits for, and the step each one is (recovery.messages.ts): a pass
 * redeemed (`TemporaryAccessPassConsumed`) is `RedeemTemporaryAccessPass`; a factor bound with that
 * pass (`TotpConfirmed` — a TOTP app is a factor once a code proves it — or
 * `WebAuthnCredentialRegistered`, naming the recovery) is `RecordEnrolment`. Whether the step may
 * happen stays the recovery decider's call.
 */
export const LINKED_AUTH_EVENT_TYPES: ReadonlySet<string> = new Set(['TemporaryAccessPassConsumed', 'TotpConfirmed', 'WebAuthnCredentialRegistered']);

export interface LinkedStep {
  readonly userId: string;
  readonly recoveryId: string;
  readonly step: Extract<RecoveryStep, { type: 'RedeemTemporaryAccessPass' | 'RecordEnrolment' }>;
}

/** The recovery step an auth event stands for; null for everything else, bindings outside a recovery included. */
export function linkedStep(event: AuthEvent): LinkedStep | null {
  switch (event.type) {
    case 'TemporaryAccessPassConsumed': {
      const { userId, recoveryId, passId } = event.data;
      return { userId, recoveryId, step: { type: 'RedeemTemporaryAccessPass', passId } };
    }
    case 'TotpConfirmed':
    case 'WebAuthnCredentialRegistered': {
      const { userId, credentialId, recovery } = event.data;
      if (recovery === undefined) return null;
      const factorKind = event.type === 'TotpConfirmed' ? 'totp' : 'webauthn';
      return { userId, recoveryId: recovery.recoveryId, step: { type: 'RecordEnrolment', passId: recovery.passId, factorId: credentialId, factorKind } };
    }
    default:
      return null;
  }
}

/**
 * Who these steps are taken as: auth-service, with the one scope its REST and gRPC calls of the same
 * steps need (`recoveries:enrol`). The events come from auth-service's own topic, so this is the
 * principal that stated them; the steps' events name it as their actor.
 */
export const AUTH_SERVICE_PRINCIPAL: Principal = { subject: 'auth-service', roles: ['service'], scopes: [RECOVERY_ENROL_SCOPE] };
