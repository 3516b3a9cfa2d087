import { baseConfigSchema, grpcPortSchema } from '@tessera/platform';
import { z } from 'zod';

const flag = z
  .enum(['true', 'false'])
  .default('true')
  .transform((value) => value === 'true');

const commaList = z
  .string()
  .min(1)
  .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean));

/**
 * auth-service configuration (environment variables only, validated at start-up).
 *
 * Key material (AUTH_KEK_RING/AUTH_KEK_CURRENT, AUTH_OTP_PEPPER, AUTH_STEP_UP_SIGNING_KEY) is required
 * when TESSERA_ENV=production. Elsewhere, a missing value is taken from a development key file that is
 * created on first use (git-ignored `.local/`), so `infra/local/platform up` works without setup and
 * secrets survive restarts; see `auth-keys.ts`.
 */
export const authServiceConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: baseConfigSchema.shape.HTTP_PORT.default(3101),
  GRPC_PORT: grpcPortSchema.default(4101).describe('gRPC port of the AuthService API other services call'),
  // S28: key-encryption keys, `id:base64key,…`, and the id of the one that wraps new data keys.
  AUTH_KEK_RING: z.string().min(1).optional().describe('S28 key-encryption keys, id:base64key,… (required in production)'),
  AUTH_KEK_CURRENT: z.string().min(1).optional().describe('id of the key that wraps new data keys (required in production)'),
  // Keys the MAC of email/SMS codes and TAPs (≥ 256 bits, base64); kept out of the database.
  AUTH_OTP_PEPPER: z.string().min(1).optional().describe('base64 key (≥ 256 bits) for the MAC of email/SMS codes and passes (required in production)'),
  // The ES256 private key (JWK JSON with a `kid`) that signs step-up assertions.
  AUTH_STEP_UP_SIGNING_KEY: z.string().min(2).optional().describe('ES256 private JWK (with kid) that signs step-up assertions (required in production)'),
  // Retired public keys (a JWKS document) still published so assertions they signed verify until they expire.
  AUTH_STEP_UP_PREVIOUS_JWKS: z.string().min(2).optional().describe('retired step-up public keys still published until their assertions expire'),
  AUTH_STEP_UP_ISSUER: z.string().min(1).default('tessera-auth-service').describe('iss of step-up assertions'),
  AUTH_STEP_UP_AUDIENCE: z.string().min(1).default('tessera').describe('aud of step-up assertions'),
  AUTH_STEP_UP_TTL_SECONDS: z.coerce.number().int().min(30).max(900).default(300).describe('lifetime of a step-up assertion'),
  AUTH_DEV_KEYS_FILE: z.string().min(1).default('.local/auth-service/dev-keys.json').describe('outside production: file holding generated development keys'),
  AUTH_TOTP_ISSUER: z.string().min(1).max(200).default('Tessera').describe('issuer shown in authenticator apps'),
  AUTH_WEBAUTHN_RP_ID: z.string().min(1).default('localhost').describe("WebAuthn relying-party id (the site's domain)"),
  AUTH_WEBAUTHN_RP_NAME: z.string().min(1).default('Tessera').describe('WebAuthn relying-party name shown to users'),
  AUTH_WEBAUTHN_ORIGINS: commaList.default(['http://localhost:3000']).describe('comma-separated origins allowed in WebAuthn ceremonies (S16)'),
  // S7: restricted factors can be switched off by policy.
  AUTH_ALLOW_EMAIL_OTP: flag.describe('S7: allow email codes (restricted factor)'),
  AUTH_ALLOW_SMS_OTP: flag.describe('S7: allow SMS codes (restricted factor)'),
  // Delivery of email and SMS codes; without them, adding such a channel is refused.
  AUTH_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional().describe('smtp:// or smtps:// server for email codes'),
  AUTH_SMTP_FROM: z.string().min(3).default('Tessera <no-reply@tessera.invalid>').describe('sender of email codes'),
  AUTH_SMS_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional().describe('SMS gateway webhook (signed requests)'),
  AUTH_SMS_WEBHOOK_SECRET: z.string().min(32).optional().describe('HMAC secret for the SMS gateway webhook'),
});

export type AuthServiceConfig = z.infer<typeof authServiceConfigSchema>;
