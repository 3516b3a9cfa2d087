import { READINESS_FINDINGS, READINESS_LEVELS } from '@tessera/contracts';
import { BACKUP_METHODS } from '@tessera/device-domain';
import { z } from 'zod';

/** GET /v1/users/{userId}/readiness (documentation of the response). */
export const readinessResponseSchema = z.object({
  userId: z.string(),
  level: z.enum(READINESS_LEVELS),
  score: z.number().int().min(0).max(100),
  findings: z.array(z.enum(READINESS_FINDINGS)),
  backupMethods: z.object({
    methods: z.array(
      z.object({
        method: z.enum(BACKUP_METHODS),
        status: z.enum(['present', 'low', 'stale', 'missing', 'not_needed']),
        remaining: z.number().int().optional(),
        storedAt: z.string().optional(),
      }),
    ),
    toFix: z.array(z.enum(BACKUP_METHODS)).describe('What the user should add or renew'),
  }),
  assessedAt: z.string(),
});
