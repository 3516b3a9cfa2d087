import { AAGUID_PATTERN, DEVICE_KINDS, MAX_CREDENTIALS_PER_DEVICE, deviceKindSchema, deviceLossReasonSchema } from '@tessera/contracts';
import { UUID_PATTERN } from '@tessera/util';
import { z } from 'zod';

/**
 * Request and response shapes of the device API, validated at the boundary (ZodPipe) and documented
 * from the same schemas (ApiZodBody, openApiSchema), so documentation and enforcement cannot drift.
 */

export const uuidSchema = z.string().regex(UUID_PATTERN, 'must be a lowercase UUID');
/** User ids come from the identity provider: printable, no separators that could confuse a path or a log. */
export const userIdSchema = z.string().regex(/^[^\s\p{Cc}/\\]{1,200}$/u, 'must be 1–200 printable characters without spaces or slashes');
const aaguidSchema = z.string().toLowerCase().regex(AAGUID_PATTERN, 'must be an AAGUID (UUID notation)');
const instant = z.string().describe('ISO 8601 instant, UTC');

export const userParamsSchema = z.object({ userId: userIdSchema }).strict();
export const deviceParamsSchema = z.object({ deviceId: uuidSchema }).strict();

export const listDevicesQuerySchema = z.object({ status: z.enum(['active', 'lost', 'revoked']).optional() }).strict();

export const registerDeviceSchema = z
  .object({
    kind: deviceKindSchema,
    name: z.string().min(1).max(64),
    /** The user's credentials, as auth-service knows them, that live on this device. */
    credentialIds: z.array(uuidSchema).max(MAX_CREDENTIALS_PER_DEVICE).default([]),
    aaguid: aaguidSchema.nullable().optional(),
  })
  .strict();
export type RegisterDeviceBody = z.infer<typeof registerDeviceSchema>;

export const renameDeviceSchema = z.object({ name: z.string().min(1).max(64) }).strict();

export const reportLostSchema = z.preprocess((body) => body ?? {}, z.object({ reason: deviceLossReasonSchema.default('lost') }).strict());

/**
 * A revocation by the user themself has no body (and needs a step-up); staff and services name the
 * recovery or incident it belongs to (`reason` + `referenceId`, as in the gRPC RevokeDevice).
 */
export const revokeDeviceSchema = z.preprocess(
  (body) => body ?? {},
  z
    .object({
      reason: z.enum(['recovery', 'incident']).optional(),
      /** The recovery or incident id. */
      referenceId: z.string().min(1).max(200).optional(),
    })
    .strict()
    .refine((body) => (body.reason === undefined) === (body.referenceId === undefined), {
      message: 'reason and referenceId go together: the recovery or incident the revocation belongs to',
      path: ['referenceId'],
    }),
);
export type RevokeDeviceBody = z.infer<typeof revokeDeviceSchema>;

// ---- responses (documentation) ----

export const deviceResponseSchema = z.object({
  deviceId: z.string(),
  userId: z.string(),
  kind: z.enum(DEVICE_KINDS),
  name: z.string(),
  status: z.enum(['active', 'lost', 'revoked']),
  credentials: z.array(z.object({ credentialId: z.string(), factor: z.enum(['totp', 'webauthn', 'email_otp', 'sms_otp']), boundAt: instant })),
  aaguid: z.string().nullable(),
  model: z.object({ name: z.string(), category: z.enum(['security-key', 'platform', 'password-manager']) }).nullable().describe('From the AAGUID, display only (S20)'),
  registeredAt: instant,
  lastUsedAt: instant.nullable(),
  lossReason: z.enum(['lost', 'stolen']).nullable(),
  reportedAt: instant.nullable(),
  revocationReason: z.enum(['user_removed', 'recovery', 'incident']).nullable(),
  revokedAt: instant.nullable(),
});
export type DeviceResponse = z.infer<typeof deviceResponseSchema>;

export const deviceListResponseSchema = z.object({ userId: z.string(), devices: z.array(deviceResponseSchema) });

export const revokeResponseSchema = z.object({
  device: deviceResponseSchema,
  revokedCredentialIds: z.array(z.string()).describe('Revoked in auth-service before this response was sent (S23)'),
  alreadyRevoked: z.boolean(),
});
