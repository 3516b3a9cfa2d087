import { type Aal, type AmrValue, type AuthEvent, type BoundUnderRecovery } from '@tessera/contracts';
import { assertNever } from '@tessera/event-sourcing';
import { methodDescriptor } from '../methods/registry';
import { webAuthnAmr, webAuthnLevel } from '../methods/webauthn/webauthn';
import { type AccountThrottle, evolveAccountThrottle, INITIAL_ACCOUNT_THROTTLE } from '../throttle/throttle';

/**
 * One user's authenticators as the auth-service knows them, folded from the stream
 * `auth-user-<userId>`. Like the events, the state holds no secret: seeds, code hashes and public keys
 * live in the credential store, keyed by these ids.
 */
export type CredentialView =
  | {
      readonly kind: 'totp';
      readonly id: string;
      readonly name: string;
      /** Enrolled but not yet proven with a code: not a factor yet. */
      readonly confirmed: boolean;
      /** S1: the newest accepted time step. */
      readonly lastAcceptedStep: number | null;
      /** Enrolled with a recovery's pass: its confirmation is the binding that recovery waits for. */
      readonly recovery: BoundUnderRecovery | null;
    }
  | { readonly kind: 'webauthn'; readonly id: string; readonly name: string; readonly deviceBound: boolean; readonly signCount: number }
  | { readonly kind: 'backup_codes'; readonly id: string; readonly total: number; readonly remaining: number }
  | { readonly kind: 'email_otp' | 'sms_otp'; readonly id: string; readonly destinationHint: string };

export interface Account {
  readonly userId: string;
  readonly credentials: Readonly<Record<string, CredentialView>>;
  readonly throttle: AccountThrottle;
  /**
   * The newest Temporary Access Pass redeemed on this account, and its recovery. A binding made with a
   * pass's step-up names this pass (S21); a newer pass replaces it (one live pass per user).
   */
  readonly redeemedPass: BoundUnderRecovery | null;
}

export type CredentialsState =
  | { readonly status: 'unenrolled' }
  | ({ readonly status: 'active' } & Account)
  | ({ readonly status: 'frozen'; readonly incidentId: string } & Account);

export type AccountState = Exclude<CredentialsState, { status: 'unenrolled' }>;

export const initialCredentialsState = (): CredentialsState => ({ status: 'unenrolled' });

export function authUserStreamId(userId: string): string {
  return `auth-user-${userId}`;
}

export function accountOf(state: CredentialsState, userId: string): AccountState {
  return state.status === 'unenrolled' ? { status: 'active', userId, credentials: {}, throttle: INITIAL_ACCOUNT_THROTTLE, redeemedPass: null } : state;
}

export function evolveCredentials(state: CredentialsState, event: AuthEvent): CredentialsState {
  const before = accountOf(state, event.data.userId);
  const current: AccountState = { ...before, throttle: evolveAccountThrottle(before.throttle, event) };
  const credentials = current.credentials;
  const withCredentials = (next: Record<string, CredentialView>): AccountState => ({ ...current, credentials: next });

  switch (event.type) {
    case 'TotpEnrolled': {
      const { credentialId: id, name } = event.data;
      return withCredentials({ ...credentials, [id]: { kind: 'totp', id, name, confirmed: false, lastAcceptedStep: null, recovery: event.data.recovery ?? null } });
    }
    case 'TotpConfirmed':
      return withCredentials(
        patch(credentials, event.data.credentialId, 'totp', () => ({ confirmed: true, lastAcceptedStep: event.data.acceptedTimeStep })),
      );
    case 'WebAuthnCredentialRegistered': {
      const { credentialId: id, name, deviceBound, signCount } = event.data;
      return withCredentials({ ...credentials, [id]: { kind: 'webauthn', id, name, deviceBound, signCount } });
    }
    case 'BackupCodesGenerated': {
      const { credentialId: id, count, replacedCredentialId } = event.data;
      return withCredentials({ ...without(credentials, replacedCredentialId), [id]: { kind: 'backup_codes', id, total: count, remaining: count } });
    }
    case 'BackupCodeUsed':
      return withCredentials(patch(credentials, event.data.credentialId, 'backup_codes', () => ({ remaining: event.data.remaining })));
    case 'EmailOtpChannelAdded':
    case 'SmsOtpChannelAdded': {
      const { credentialId: id, destinationHint } = event.data;
      const kind = event.type === 'EmailOtpChannelAdded' ? 'email_otp' : 'sms_otp';
      return withCredentials({ ...credentials, [id]: { kind, id, destinationHint } });
    }
    case 'CredentialRevoked':
      return withCredentials(without(credentials, event.data.credentialId));
    case 'VerificationSucceeded': {
      const { credentialId, timeStep, signCount } = event.data;
      if (timeStep !== null) return withCredentials(patch(credentials, credentialId, 'totp', () => ({ lastAcceptedStep: timeStep })));
      if (signCount !== null) return withCredentials(patch(credentials, credentialId, 'webauthn', () => ({ signCount })));
      return current;
    }
    case 'CredentialsFrozen':
      return { ...current, status: 'frozen', incidentId: event.data.incidentId };
    case 'CredentialsUnfrozen':
      return { status: 'active', userId: current.userId, credentials: current.credentials, throttle: current.throttle, redeemedPass: current.redeemedPass };
    case 'TemporaryAccessPassConsumed':
      return { ...current, redeemedPass: { recoveryId: event.data.recoveryId, passId: event.data.passId } };
    // Notifications and throttle-only events: the throttle fold above is all they change.
    case 'BackupCodesLow':
    case 'VerificationFailed':
    case 'ThrottleEngaged':
    case 'ThrottleReset':
    case 'PossibleClonedAuthenticatorDetected':
      return current;
    default:
      return assertNever(event);
  }
}

/** A credential that can sign the user in right now (what S24 protects and S21 measures). */
export function isUsable(credential: CredentialView): boolean {
  switch (credential.kind) {
    case 'totp':
      return credential.confirmed;
    case 'backup_codes':
      return credential.remaining > 0;
    default:
      return true;
  }
}

export function credentialLevel(credential: CredentialView): Aal {
  return credential.kind === 'webauthn' ? webAuthnLevel(credential.deviceBound) : methodDescriptor(credential.kind).aal;
}

export function credentialAmr(credential: CredentialView): AmrValue[] {
  return credential.kind === 'webauthn' ? webAuthnAmr(credential.deviceBound) : [...methodDescriptor(credential.kind).amr];
}

/** S21: the level a step-up must reach — that of the strongest usable factor, or 1 with none. */
export function highestAvailableLevel(account: Account): Aal {
  return Object.values(account.credentials)
    .filter(isUsable)
    .reduce<Aal>((highest, credential) => (credentialLevel(credential) > highest ? credentialLevel(credential) : highest), 1);
}

function patch<K extends CredentialView['kind']>(
  credentials: Readonly<Record<string, CredentialView>>,
  id: string,
  kind: K,
  change: (credential: Extract<CredentialView, { kind: K }>) => Partial<Extract<CredentialView, { kind: K }>>,
): Record<string, CredentialView> {
  const credential = credentials[id];
  if (credential === undefined || credential.kind !== kind) return { ...credentials };
  const typed = credential as Extract<CredentialView, { kind: K }>;
  return { ...credentials, [id]: { ...typed, ...change(typed) } };
}

function without(credentials: Readonly<Record<string, CredentialView>>, id: string | null): Record<string, CredentialView> {
  const rest = { ...credentials };
  if (id !== null) delete rest[id];
  return rest;
}
