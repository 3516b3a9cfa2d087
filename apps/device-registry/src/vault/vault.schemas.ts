import { z } from 'zod';
import { uuidSchema } from '../devices/devices.schemas';

/** The media type of a vault blob on the wire: the raw bytes of libs/vault-client FORMAT.md. */
export const VAULT_MEDIA_TYPE = 'application/octet-stream';

export const uploadQuerySchema = z.object({ deviceId: uuidSchema.optional() }).strict();

export const restoreBodySchema = z.preprocess(
  (body) => body ?? {},
  z
    .object({
      /** The backup to restore; the current one when omitted (only the current one is kept). */
      backupId: uuidSchema.optional(),
      /** The device the backup is restored onto, when it is registered already. */
      deviceId: uuidSchema.optional(),
    })
    .strict(),
);
export type RestoreBody = z.infer<typeof restoreBodySchema>;

const instant = z.string().describe('ISO 8601 instant, UTC');

export const vaultVersionSchema = z.object({
  backupId: z.string(),
  version: z.number().int().describe('1 for the first backup of the account, then +1 per upload'),
  formatVersion: z.number().int().describe('Byte 4 of the blob (vault format version)'),
  sizeBytes: z.number().int(),
  deviceId: z.string().nullable(),
  replacesBackupId: z.string().nullable(),
  storedAt: instant,
  lastRestoredAt: instant.nullable(),
  restoreCount: z.number().int(),
});

export const vaultInfoResponseSchema = z.object({
  userId: z.string(),
  current: vaultVersionSchema.nullable(),
  versions: z.array(vaultVersionSchema).describe('Newest first (metadata only: only the current blob is kept)'),
});

export const storedResponseSchema = vaultVersionSchema.extend({ sha256: z.string().describe('Of the stored bytes, hex') });

export const restoreResponseSchema = storedResponseSchema.extend({
  restoredAt: instant,
  blob: z.string().describe('The encrypted blob, base64 (RFC 4648 §4); decrypt it on the client'),
});
