import { z } from 'zod';

/** A user id as the IdP names it: 1–200 printable characters, no path or control characters. */
export const userIdSchema = z.string().regex(/^[A-Za-z0-9._@+:-]{1,200}$/, 'must be 1–200 characters of [A-Za-z0-9._@+:-]');
export const factorIdSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'must be a lowercase UUID');
export const factorNameSchema = z.string().trim().min(1).max(64);

export const userParamsSchema = z.object({ userId: userIdSchema }).strict();
export const factorParamsSchema = z.object({ userId: userIdSchema, factorId: factorIdSchema }).strict();
