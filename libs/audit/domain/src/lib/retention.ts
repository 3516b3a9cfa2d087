import { isCheckpointBodyConsistent, type SignedCheckpoint, verifyCheckpointSignature } from './checkpoint';
import { type PublicKeyRing } from './signing-keys';

/**
 * Retention without breaking verification (CHAIN.md, "Retention").
 *
 * Records may be deleted only as a prefix of the chain that ends exactly at a signed checkpoint:
 * positions 1..k where a valid checkpoint has `toPosition = k`. The first remaining record,
 * k + 1, carries `previousHash = hash_k`, and the checkpoint signs `headHash = hash_k`, so the
 * verifier starts from a signed value instead of the genesis hash. Checkpoints themselves are
 * never deleted: they are small, contain no personal data, and are the anchors.
 *
 * A cut is therefore rounded down to the last checkpoint at or before the horizon: some records
 * older than the horizon stay until the next checkpoint passes it, never the other way round.
 * The newest record is never deleted, so an empty log always means records went missing.
 *
 * The caller verifies the chain through the anchor (`verifyChain`) before deleting anything: the
 * plan checks the checkpoint's signature, not that the stored records agree with it.
 */
export interface RetentionCut {
  /** Delete records with `position <= deleteThroughPosition`. */
  readonly deleteThroughPosition: number;
  /** The checkpoint that anchors the first remaining record; keep it forever. */
  readonly anchor: SignedCheckpoint;
}

export interface RetentionInput {
  readonly checkpoints: Iterable<SignedCheckpoint>;
  readonly publicKeys: PublicKeyRing;
  /** The first position that retention requires to keep (the oldest record inside the horizon). */
  readonly firstPositionToKeep: number;
  /** Records already deleted by earlier cuts (0 if none): a cut never moves backwards. */
  readonly alreadyDeletedThrough: number;
  /** The position of the newest record. */
  readonly headPosition: number;
}

/** The cut to make now, or `null` when no verified checkpoint lies between the last cut and the horizon. */
export function planRetentionCut(input: RetentionInput): RetentionCut | null {
  const keepFrom = Math.min(input.firstPositionToKeep, input.headPosition);
  let best: SignedCheckpoint | null = null;
  for (const checkpoint of input.checkpoints) {
    if (checkpoint.toPosition >= keepFrom || checkpoint.toPosition <= input.alreadyDeletedThrough) continue;
    if (best !== null && checkpoint.toPosition <= best.toPosition) continue;
    // Deleting records on the word of an unverifiable checkpoint would destroy the only evidence.
    if (!isCheckpointBodyConsistent(checkpoint) || verifyCheckpointSignature(checkpoint, input.publicKeys) !== 'valid') continue;
    best = checkpoint;
  }
  return best === null ? null : { deleteThroughPosition: best.toPosition, anchor: best };
}
