import type { StaffNotice } from '@tessera/recovery-workflows';

/**
 * What the orchestrator needs from the world, as narrow ports (STYLE.md: a factory takes the few
 * ports it needs). Production adapters are in this folder; workflow tests give typed fakes.
 */

export interface AuthFactor {
  readonly factorId: string;
  readonly kind: string;
  readonly status: string;
  readonly createdAt: string | null;
}

/** auth-service's gRPC API (libs/shared/contracts/proto/auth.proto). Every command carries an idempotency key. */
export interface AuthPort {
  listFactors(userId: string): Promise<{ readonly factors: readonly AuthFactor[]; readonly frozen: boolean }>;
  /** Checks a factor proof; answers the method and credential, never the proof. */
  verify(input: { readonly userId: string; readonly method: string; readonly proofJson: string; readonly clientAddress: string }): Promise<{ readonly method: string; readonly credentialId: string }>;
  revokeCredential(input: { readonly userId: string; readonly credentialId: string; readonly idempotencyKey: string; readonly reason: string; readonly recoveryId: string }): Promise<void>;
  freezeAccount(input: { readonly userId: string; readonly incidentId: string; readonly idempotencyKey: string; readonly reason: string }): Promise<void>;
  unfreezeAccount(input: { readonly userId: string; readonly incidentId: string; readonly idempotencyKey: string }): Promise<void>;
  /** The pass goes from auth-service straight to the user at `delivery`; only its id comes back (S32). */
  issueTemporaryAccessPass(input: {
    readonly userId: string;
    readonly recoveryId: string;
    readonly idempotencyKey: string;
    readonly lifetimeSeconds: number;
    readonly delivery: { readonly channel: 'email' | 'sms'; readonly address: string };
  }): Promise<{ readonly passId: string }>;
  revokeTemporaryAccessPass(input: { readonly userId: string; readonly passId: string; readonly idempotencyKey: string }): Promise<void>;
}

/**
 * auth-service's `ListContactChannels`: the user's confirmed email/SMS addresses (personal data: they
 * stay inside the notifier). `null` when this auth-service does not offer the method yet (a rolling
 * upgrade), so the other directories still serve.
 */
export interface ContactChannelsPort {
  listContactChannels(userId: string): Promise<readonly { readonly kind: 'email' | 'sms'; readonly address: string }[] | null>;
}

/**
 * Which per-address sends of a notice were accepted already, kept outside any retried transaction, so
 * that a retry (an activity's, a redelivered event's) sends only what failed: one message per address
 * and notice, even when a receiver does not dedupe by idempotency key.
 */
export interface NoticeDeliveryLedger {
  /** The keys among `keys` recorded as delivered. */
  delivered(keys: readonly string[]): Promise<ReadonlySet<string>>;
  record(keys: readonly string[], at: Date): Promise<void>;
}

export interface PagerPort {
  page(input: {
    readonly reason: 'break-glass-recovery' | 'incident';
    readonly reference: string;
    readonly subjectUserId: string;
    readonly summary: string;
    readonly raisedAt: Date;
    readonly idempotencyKey: string;
  }): Promise<{ readonly pageReference: string }>;
  /** A reminder to staff (approvals pending, a post-incident review still open): not a page, its own template. */
  remind(input: { readonly notice: StaffNotice; readonly recoveryId: string; readonly userId: string; readonly idempotencyKey: string; readonly raisedAt: Date }): Promise<void>;
}

/** An identity-verification provider, asked through a signed webhook for the outcome of one of its checks. */
export interface IdentityVerifierPort {
  outcome(input: { readonly recoveryId: string; readonly reference: string; readonly idempotencyKey: string }): Promise<'passed' | 'failed'>;
}

export interface DevicesPort {
  revokeDevice(input: { readonly userId: string; readonly deviceId: string; readonly incidentId: string; readonly idempotencyKey: string }): Promise<void>;
}

/** The user-facing notices (S22), rendered from the shared templates and sent on every channel the user has. */
export interface UserNotifierPort {
  notify(input: {
    readonly userId: string;
    readonly subjectId: string;
    readonly notice: string;
    readonly idempotencyKey: string;
    readonly at: Date;
    readonly endsAt: Date | null;
  }): Promise<void>;
}

export const AUTH_PORT = Symbol('recovery.authPort');
export const PAGER_PORT = Symbol('recovery.pagerPort');
export const IDENTITY_VERIFIER_PORT = Symbol('recovery.identityVerifierPort');
export const DEVICES_PORT = Symbol('recovery.devicesPort');
export const USER_NOTIFIER_PORT = Symbol('recovery.userNotifierPort');
export const CONTACT_DIRECTORY = Symbol('recovery.contactDirectory');
export const NOTICE_DELIVERY_LEDGER = Symbol('recovery.noticeDeliveryLedger');

/** A port whose adapter is not configured: the activity fails (and is retried) where on-call can see it. */
export class NotConfiguredError extends Error {
  constructor(what: string, setting: string) {
    super(`${what} is not configured (set ${setting})`);
    this.name = 'NotConfiguredError';
  }
}
