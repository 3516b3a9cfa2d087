import { sign, verify } from 'node:crypto';
import { z } from 'zod';
import { AuditError } from './audit-error';
import { canonicalJson } from './canonical-json';
import { type ChainHead, isHexHash } from './hash-chain';
import { type CheckpointSigner, type PublicKeyRing } from './signing-keys';

/**
 * Signed checkpoints (CHAIN.md).
 *
 * A hash chain alone only proves that records agree with each other: anyone who can write the
 * table can rewrite a record and recompute every hash after it. A checkpoint signs the head hash
 * with a key the database never holds, and is exported to a separate sink (the compacted
 * `tessera.audit.checkpoints.v1` topic), so rewriting history also means forging an Ed25519
 * signature. Checkpoints also anchor retention: records before a checkpoint may be deleted and
 * the first remaining record still links to a signed hash (retention.ts).
 *
 * Signatures are pure Ed25519 (RFC 8032 §5.1) over
 *   UTF-8("tessera.audit.checkpoint.v1\n") || UTF-8(canonical(body))
 * The label keeps a checkpoint signature from being valid for any other message the same key
 * might ever sign. Ed25519 is deterministic (RFC 8032 §5.1.6), so signing needs no randomness.
 */

export interface CheckpointBody {
  /** First position covered since the previous checkpoint. */
  readonly fromPosition: number;
  /** The position whose hash is signed. */
  readonly toPosition: number;
  /** `hash` of the record at `toPosition`. */
  readonly headHash: string;
  /** `toPosition - fromPosition + 1`, signed so a verifier can check the range it was told. */
  readonly recordCount: number;
  readonly createdAt: string;
  /** Which public key verifies it; keys rotate, old ids stay in the verifiers' ring. */
  readonly keyId: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  /** The 64-byte Ed25519 signature, base64url. */
  readonly signature: string;
}

export interface CheckpointPolicy {
  /** A checkpoint after every `every` records. */
  readonly every: number;
}

export const checkpointPolicySchema = z.object({ every: z.number().int().min(1).max(1_000_000) }).strict();

/** Validates configuration; the error names the setting and the allowed range. */
export function parseCheckpointPolicy(input: unknown): CheckpointPolicy {
  const parsed = checkpointPolicySchema.safeParse(input);
  if (!parsed.success) throw new AuditError('invalid_policy', 'checkpoint policy: "every" must be an integer from 1 to 1000000');
  return parsed.data;
}

export function isCheckpointDue(position: number, policy: CheckpointPolicy): boolean {
  return position > 0 && position % policy.every === 0;
}

const SIGNING_LABEL = 'tessera.audit.checkpoint.v1\n';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export const signedCheckpointSchema = z
  .object({
    fromPosition: z.number().int().min(1),
    toPosition: z.number().int().min(1),
    headHash: z.string().regex(/^[0-9a-f]{64}$/),
    recordCount: z.number().int().min(1),
    createdAt: z.string().regex(ISO_UTC),
    keyId: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/),
    signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
  })
  .strict();

/** The exact bytes signed; exported so other implementations can be tested against it. */
export function checkpointMessage(body: CheckpointBody): Buffer {
  const { fromPosition, toPosition, headHash, recordCount, createdAt, keyId } = body;
  return Buffer.from(SIGNING_LABEL + canonicalJson({ fromPosition, toPosition, headHash, recordCount, createdAt, keyId }), 'utf8');
}

/** True when the range, count and hash are well-formed; the signature is a separate question. */
export function isCheckpointBodyConsistent(body: CheckpointBody): boolean {
  return (
    Number.isSafeInteger(body.fromPosition) &&
    Number.isSafeInteger(body.toPosition) &&
    body.fromPosition >= 1 &&
    body.toPosition >= body.fromPosition &&
    body.recordCount === body.toPosition - body.fromPosition + 1 &&
    isHexHash(body.headHash)
  );
}

export interface CheckpointInput {
  /** The `toPosition` of the previous checkpoint, 0 for the first. */
  readonly previousToPosition: number;
  /** The chain head being signed. */
  readonly head: ChainHead;
  /** From the injected clock. */
  readonly createdAt: string;
}

export function createCheckpoint(input: CheckpointInput, signer: CheckpointSigner): SignedCheckpoint {
  const body: CheckpointBody = {
    fromPosition: input.previousToPosition + 1,
    toPosition: input.head.position,
    headHash: input.head.hash,
    recordCount: input.head.position - input.previousToPosition,
    createdAt: input.createdAt,
    keyId: signer.keyId,
  };
  if (!isCheckpointBodyConsistent(body) || !ISO_UTC.test(body.createdAt)) {
    throw new AuditError('invalid_checkpoint_range', 'a checkpoint covers at least one record after the previous one and has an ISO 8601 UTC time');
  }
  return { ...body, signature: sign(null, checkpointMessage(body), signer.privateKey).toString('base64url') };
}

export type CheckpointSignatureCheck = 'valid' | 'unknown_key' | 'invalid';

export function verifyCheckpointSignature(checkpoint: SignedCheckpoint, publicKeys: PublicKeyRing): CheckpointSignatureCheck {
  const publicKey = publicKeys.get(checkpoint.keyId);
  if (publicKey === undefined) return 'unknown_key';
  const signature = typeof checkpoint.signature === 'string' ? Buffer.from(checkpoint.signature, 'base64url') : Buffer.alloc(0);
  if (signature.length !== 64) return 'invalid';
  try {
    return verify(null, checkpointMessage(checkpoint), publicKey, signature) ? 'valid' : 'invalid';
  } catch {
    // A body with values canonical JSON refuses cannot have been signed by us.
    return 'invalid';
  }
}
