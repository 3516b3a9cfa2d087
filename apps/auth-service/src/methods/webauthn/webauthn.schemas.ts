import { z } from 'zod';
import { factorNameSchema, factorIdSchema } from '../../common/schemas';

const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be base64url').max(16_384);

/** RegistrationResponseJSON (WebAuthn Level 3 §5.1), as a browser's toJSON() or an emulator sends it. */
export const registrationResponseSchema = z
  .object({
    id: base64url.min(1).max(1366),
    rawId: base64url.min(1).max(1366),
    type: z.literal('public-key'),
    response: z
      .object({
        clientDataJSON: base64url.min(1),
        attestationObject: base64url.min(1),
        transports: z.array(z.string().max(32)).max(10).optional(),
        authenticatorData: base64url.optional(),
        publicKey: base64url.optional(),
        publicKeyAlgorithm: z.number().int().optional(),
      })
      .loose(),
    authenticatorAttachment: z.string().max(32).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  })
  .loose();

/** AuthenticationResponseJSON (WebAuthn Level 3 §5.1). */
export const authenticationResponseSchema = z
  .object({
    id: base64url.min(1).max(1366),
    rawId: base64url.min(1).max(1366),
    type: z.literal('public-key'),
    response: z
      .object({
        clientDataJSON: base64url.min(1),
        authenticatorData: base64url.min(1),
        signature: base64url.min(1),
        userHandle: base64url.optional(),
      })
      .loose(),
    authenticatorAttachment: z.string().max(32).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  })
  .loose();

export const registrationOptionsSchema = z.object({}).strict();

export const registerWebAuthnSchema = z
  .object({ challengeId: factorIdSchema, name: factorNameSchema.default('Security key'), response: registrationResponseSchema })
  .strict();

export const webAuthnProofSchema = z.object({ challengeId: factorIdSchema, response: authenticationResponseSchema }).strict();
