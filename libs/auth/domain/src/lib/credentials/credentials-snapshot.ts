import { authAttemptKindSchema } from '@tessera/contracts';
import { z } from 'zod';
import type { CredentialsState } from './credentials-state';

/**
 * How a user's folded credentials state is kept in a snapshot (the event store's SnapshotCodec shape:
 * name, encode, decode). The state is plain JSON already (times are epoch milliseconds), so encoding is
 * the identity; decoding checks the shape strictly, so a snapshot written by an older shape is refused
 * and the stream is folded in full instead. Change `name` whenever the state or `evolveCredentials`
 * changes meaning. Like the state, a snapshot holds no secret (S29): ids, names, counters, hints.
 */
const streak = z.strictObject({ failures: z.number().int().min(0), lastFailureAt: z.number() });
const recoveryPass = z.strictObject({ recoveryId: z.string(), passId: z.string() });
const credential = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('totp'), id: z.string(), name: z.string(), confirmed: z.boolean(), lastAcceptedStep: z.number().int().nullable(), recovery: recoveryPass.nullable() }),
  z.strictObject({ kind: z.literal('webauthn'), id: z.string(), name: z.string(), deviceBound: z.boolean(), signCount: z.number().int().min(0) }),
  z.strictObject({ kind: z.literal('backup_codes'), id: z.string(), total: z.number().int(), remaining: z.number().int() }),
  z.strictObject({ kind: z.enum(['email_otp', 'sms_otp']), id: z.string(), destinationHint: z.string() }),
]);
const account = {
  userId: z.string(),
  credentials: z.record(z.string(), credential),
  throttle: z.strictObject({ streak: streak.nullable(), byKind: z.partialRecord(authAttemptKindSchema, streak) }),
  redeemedPass: recoveryPass.nullable(),
};
const stateSchema = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('unenrolled') }),
  z.strictObject({ status: z.literal('active'), ...account }),
  z.strictObject({ status: z.literal('frozen'), incidentId: z.string(), ...account }),
]);

export const credentialsSnapshotCodec = {
  // v2: the redeemed pass and a TOTP app's recovery (a v1 snapshot lacks them, so the stream is folded in full).
  name: 'auth.credentials.v2',
  encode: (state: CredentialsState): unknown => state,
  decode: (stored: unknown): CredentialsState => stateSchema.parse(stored) as CredentialsState,
} as const;

/**
 * A snapshot every 16 events: a user's stream gains an event per sign-in, so without snapshots every
 * verification would read the user's whole history. The state is small (≤ 20 credentials), so writing
 * it costs less than reading 16 events back.
 */
export const CREDENTIALS_SNAPSHOT_EVERY = 16;
