import { RISK_SIGNALS } from '@tessera/contracts';
import { z } from 'zod';

/** Request shapes of the recovery API, validated at the boundary (R7) and documented from the same schemas. */
export const identifier = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/, 'must be 1-200 letters, digits or . _ : @ -');
const text = (max: number) => z.string().trim().min(1).max(max);
const reference = text(200);
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'must be a lowercase UUID');
const ids = (max: number) => z.array(identifier).max(max).refine((values) => new Set(values).size === values.length, 'must not repeat');

export const startRecoverySchema = z.strictObject({
  userId: identifier,
  kind: z.enum(['assisted', 'break-glass']).default('assisted'),
  /** Why: shown to on-call in the workflow memo and to approvers. Never a secret. */
  reason: text(500),
  /** Required when staff start a recovery on a user's behalf. */
  ticketReference: reference.optional(),
  riskSignals: z.array(z.enum(RISK_SIGNALS)).max(RISK_SIGNALS.length).default([]),
  lostFactorIds: ids(50).default([]),
  subjectGroups: z.array(text(200)).max(100).default([]),
});

export const listRecoveriesSchema = z.strictObject({
  state: z.enum(['awaiting-evidence', 'awaiting-approval', 'cooling-off', 'pass-issued', 'enrolled', 'restricted', 'completed', 'cancelled', 'rejected', 'expired', 'active']).optional(),
  userId: identifier.optional(),
  kind: z.enum(['assisted', 'break-glass']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const evidenceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('helpdesk-attestation'), reference, outcome: z.enum(['passed', 'failed']) }),
  z.strictObject({ kind: z.literal('idv-webhook'), reference }),
]);

export const reasonSchema = z.strictObject({ reason: text(2000) });

/** Step-up through auth-service with any remaining factor; the proof goes to auth-service and nowhere else. */
export const cancelSchema = z.strictObject({
  method: z.enum(['totp', 'webauthn', 'backup_code', 'email_otp', 'sms_otp']),
  proof: z.record(z.string(), z.unknown()).refine((proof) => JSON.stringify(proof).length <= 16_384, 'is too large'),
});

export const cancelLinkSchema = z.strictObject({ token: z.string().min(1).max(1024) });
export const reviewSchema = z.strictObject({ findingsReference: reference });
export const redeemSchema = z.strictObject({ passId: uuid });
export const enrolmentSchema = z.strictObject({ passId: uuid, factorId: identifier, factorKind: z.enum(['totp', 'webauthn']) });

export const freezeSchema = z.strictObject({ reason: text(500), deviceIds: ids(50).default([]) });
export const unfreezeSchema = z.strictObject({ reason: text(2000) });
export const incidentDecisionSchema = z.discriminatedUnion('decision', [
  z.strictObject({ decision: z.literal('unfreeze'), reason: text(2000) }),
  z.strictObject({ decision: z.literal('force-recovery'), reason: text(2000), ticketReference: reference, lostFactorIds: ids(50).default([]), subjectGroups: z.array(text(200)).max(100).default([]) }),
]);
export const listIncidentsSchema = z.strictObject({
  status: z.enum(['opened', 'frozen', 'recovery-forced', 'unfrozen', 'open']).optional(),
  userId: identifier.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const revokeDevicesSchema = z.strictObject({ deviceIds: ids(50).refine((values) => values.length > 0, 'must name at least one device') });
