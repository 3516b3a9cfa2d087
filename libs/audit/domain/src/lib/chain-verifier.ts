import { type AuditRecord } from './audit-record';
import { CanonicalJsonError } from './canonical-json';
import { type SignedCheckpoint, isCheckpointBodyConsistent, signedCheckpointSchema, verifyCheckpointSignature } from './checkpoint';
import { GENESIS_HASH, computeRecordHash, isHexHash } from './hash-chain';
import { type PublicKeyRing } from './signing-keys';

/**
 * Streaming verification of the audit chain (R8, CHAIN.md).
 *
 * Records are pushed in position order, in batches of any size; the verifier keeps O(1) state per
 * record (the expected position and the previous hash) plus the checkpoint list, which is small
 * (one per `every` records). It stops at the first inconsistency and names its position, so a
 * million-record log is checked without holding it in memory and an operator knows where to look.
 *
 * What each reason means, and the position it names:
 * - `record_malformed`: the record at the expected position lacks a usable position or hash, or
 *   holds a value canonical JSON refuses.
 * - `position_gap`: the expected position never arrives: records were deleted. Also when the first
 *   record is not position 1 and no valid checkpoint anchors it (deletion outside a retention cut).
 * - `position_out_of_order`: the missing position arrives later in the stream (records swapped or
 *   moved), or a position arrives again (a duplicate or an inserted copy).
 * - `previous_hash_mismatch`: the record does not link to the hash before it (a record was removed
 *   or inserted and the neighbours renumbered, or a record was rewritten and its hash recomputed).
 * - `hash_mismatch`: the record's content does not match its own hash (a field was altered).
 * - `checkpoint_signature_invalid`: a checkpoint's signature fails, or its key id is unknown.
 * - `checkpoint_head_mismatch`: a validly signed checkpoint disagrees with the chain at its
 *   position: the chain was rewritten from some earlier point with every hash recomputed.
 * - `checkpoint_malformed`: a checkpoint whose range, count or hash is not well-formed.
 * - `truncated_after_checkpoint`: a validly signed checkpoint covers positions past the last
 *   record: the tail was deleted. The position named is the first missing one.
 * - `checkpoint_missing` (only with `contiguousCheckpoints` / `checkpointEvery`): a checkpoint does
 *   not start where the previous one ended, or more than `checkpointEvery` records follow the newest
 *   one. Checkpoints are never deleted, each signs its `fromPosition`, so a hole means one was
 *   removed: the position named is where the missing checkpoint should have signed the head.
 *
 * The limit, stated plainly: records after the newest checkpoint are protected by the chain only;
 * whoever can write the table can rewrite or drop that tail and recompute its hashes. Checkpoints
 * every N records, exported as they are made, bound that window (CHAIN.md).
 */

export type ChainFailureReason =
  | 'hash_mismatch'
  | 'position_gap'
  | 'position_out_of_order'
  | 'previous_hash_mismatch'
  | 'checkpoint_signature_invalid'
  | 'checkpoint_head_mismatch'
  | 'checkpoint_malformed'
  | 'truncated_after_checkpoint'
  | 'checkpoint_missing'
  | 'record_malformed';

export interface ChainFailure {
  /** The first position at which the log is not what it should be (0: not attributable). */
  readonly position: number;
  readonly reason: ChainFailureReason;
  /** For people; contains positions, hashes and key ids only, never record content (S30). */
  readonly message: string;
}

export type ChainVerification =
  | {
      readonly ok: true;
      readonly recordCount: number;
      readonly firstPosition: number | null;
      readonly lastPosition: number | null;
      /** Hash of the last record (the genesis hash for an empty log). */
      readonly headHash: string;
      /** The checkpoint the first record links to when earlier records were removed by retention. */
      readonly anchor: SignedCheckpoint | null;
      readonly checkpointsVerified: number;
      readonly lastCheckpointPosition: number | null;
      /** Records after the newest checkpoint: protected by the chain alone until the next one. */
      readonly recordsAfterLastCheckpoint: number;
    }
  | { readonly ok: false; readonly failure: ChainFailure; readonly recordsChecked: number };

export interface ChainVerifierOptions {
  readonly checkpoints: Iterable<SignedCheckpoint>;
  readonly publicKeys: PublicKeyRing;
  /**
   * The first position the log should still hold (1, or the position after the last retention
   * cut). Without it, any start anchored by a valid checkpoint is accepted, which cannot tell a
   * legitimate retention cut from an unrecorded deletion that happened to end at a checkpoint.
   */
  readonly expectedFirstPosition?: number;
  /**
   * How many records to read past a missing position to find out whether it was moved (out of
   * order) or deleted (gap). Costs no memory, only reading.
   */
  readonly reorderWindow?: number;
  /**
   * Require the checkpoints to cover the log without holes: the first starts at position 1 and each
   * starts right after the previous one. Without it a checkpoint deleted from the store goes
   * unnoticed (the records it covered are still linked by the chain alone).
   */
  readonly contiguousCheckpoints?: boolean;
  /**
   * The checkpoint policy's `every`: more records than this after the newest checkpoint mean a
   * checkpoint is missing at the tail (dropped along with a rewrite of the records it signed).
   */
  readonly checkpointEvery?: number;
}

/** `suspect`: a position is missing and the verifier is reading ahead; keep pushing. */
export type VerifierStatus = 'ok' | 'suspect' | 'failed';

type State =
  | { readonly status: 'awaiting_first' }
  | { readonly status: 'linking'; readonly expected: number; readonly previousHash: string }
  | { readonly status: 'gap_pending'; readonly missing: number; readonly after: number; readonly readAhead: number }
  | { readonly status: 'failed'; readonly failure: ChainFailure }
  | { readonly status: 'finished'; readonly result: ChainVerification };

const DEFAULT_REORDER_WINDOW = 10_000;

export class ChainVerifier {
  private state: State = { status: 'awaiting_first' };
  /** Well-formed checkpoints sorted by position; `next` is the first not yet processed. */
  private readonly checkpoints: readonly SignedCheckpoint[];
  private next = 0;
  private readonly publicKeys: PublicKeyRing;
  private readonly expectedFirstPosition: number | undefined;
  private readonly reorderWindow: number;
  private readonly contiguousCheckpoints: boolean;
  private readonly checkpointEvery: number | undefined;
  private recordsChecked = 0;
  private firstPosition: number | null = null;
  private anchor: SignedCheckpoint | null = null;
  private checkpointsVerified = 0;
  private lastCheckpointPosition: number | null = null;
  private headHash = GENESIS_HASH;

  constructor(options: ChainVerifierOptions) {
    this.publicKeys = options.publicKeys;
    this.expectedFirstPosition = options.expectedFirstPosition;
    this.reorderWindow = options.reorderWindow ?? DEFAULT_REORDER_WINDOW;
    this.checkpointEvery = options.checkpointEvery;
    this.contiguousCheckpoints = options.contiguousCheckpoints === true || options.checkpointEvery !== undefined;
    const placed: SignedCheckpoint[] = [];
    let unplaceable: ChainFailure | null = null;
    for (const checkpoint of options.checkpoints) {
      if (typeof checkpoint?.toPosition === 'number' && Number.isSafeInteger(checkpoint.toPosition) && checkpoint.toPosition >= 1) placed.push(checkpoint);
      else unplaceable ??= { position: 0, reason: 'checkpoint_malformed', message: 'a checkpoint has no usable toPosition' };
    }
    this.checkpoints = placed.sort((a, b) => a.toPosition - b.toPosition);
    // A checkpoint whose own position is unusable cannot be placed in the stream: fail up front.
    if (unplaceable !== null) this.state = { status: 'failed', failure: unplaceable };
  }

  get status(): VerifierStatus {
    switch (this.state.status) {
      case 'failed':
        return 'failed';
      case 'gap_pending':
        return 'suspect';
      case 'finished':
        return this.state.result.ok ? 'ok' : 'failed';
      default:
        return 'ok';
    }
  }

  pushAll(records: Iterable<AuditRecord>): VerifierStatus {
    for (const record of records) if (this.push(record) === 'failed') return 'failed';
    return this.status;
  }

  push(record: AuditRecord): VerifierStatus {
    const state = this.state;
    switch (state.status) {
      case 'failed':
        return 'failed';
      case 'finished':
        throw new Error('ChainVerifier.push after finish()');
      case 'gap_pending':
        return this.readAhead(state, record);
      case 'awaiting_first':
        return this.start(record);
      case 'linking':
        return this.link(state.expected, state.previousHash, record);
    }
  }

  finish(): ChainVerification {
    const state = this.state;
    let result: ChainVerification;
    switch (state.status) {
      case 'finished':
        return state.result;
      case 'failed':
        result = this.failed(state.failure);
        break;
      case 'gap_pending':
        result = this.failed(gapFailure(state.missing, state.after));
        break;
      case 'awaiting_first':
      case 'linking': {
        const lastPosition = state.status === 'linking' ? state.expected - 1 : null;
        const truncation = this.checkTail(lastPosition) ?? this.checkUncheckpointedTail(lastPosition);
        result =
          truncation !== null
            ? this.failed(truncation)
            : {
                ok: true,
                recordCount: this.recordsChecked,
                firstPosition: this.firstPosition,
                lastPosition,
                headHash: this.headHash,
                anchor: this.anchor,
                checkpointsVerified: this.checkpointsVerified,
                lastCheckpointPosition: this.lastCheckpointPosition,
                recordsAfterLastCheckpoint: lastPosition === null ? 0 : lastPosition - (this.lastCheckpointPosition ?? (this.firstPosition ?? 1) - 1),
              };
      }
    }
    this.state = { status: 'finished', result };
    return result;
  }

  private start(record: AuditRecord): VerifierStatus {
    if (!isWellFormedLink(record)) return this.fail({ position: this.expectedFirstPosition ?? 1, reason: 'record_malformed', message: 'the first record has no usable position or hashes' });
    const first = record.position;
    const expectedFirst = this.expectedFirstPosition;
    // Checkpoints wholly before the first record cover records removed by retention: their
    // signatures are still checked, there is no record left to compare their heads with.
    const historicalLimit = expectedFirst !== undefined && first > expectedFirst ? expectedFirst : first - 1;
    const historical = this.takeCheckpointsBefore(historicalLimit);
    if (historical !== null) return this.fail(historical);
    if (expectedFirst !== undefined && first > expectedFirst) {
      return this.fail({ position: expectedFirst, reason: 'position_gap', message: `the log should start at position ${expectedFirst} but starts at ${first}` });
    }

    let previousHash = GENESIS_HASH;
    if (first > 1) {
      const anchors = this.takeCheckpointsAt(first - 1);
      if (anchors.length === 0) {
        const gapFrom = (this.lastCheckpointPosition ?? 0) + 1;
        return this.fail({ position: gapFrom, reason: 'position_gap', message: `records ${gapFrom}..${first - 1} are missing and no checkpoint anchors position ${first}` });
      }
      for (const anchor of anchors) {
        const invalid = this.checkCheckpoint(anchor);
        if (invalid !== null) return this.fail(invalid);
      }
      const disagreeing = anchors.find((anchor) => anchor.headHash !== record.previousHash);
      if (disagreeing !== undefined) {
        return this.fail({
          position: first,
          reason: 'previous_hash_mismatch',
          message: `record ${first} links to ${record.previousHash}, the checkpoint at ${first - 1} signed ${disagreeing.headHash}`,
        });
      }
      previousHash = record.previousHash;
      this.anchor = anchors[0];
    }
    this.firstPosition = first;
    return this.link(first, previousHash, record);
  }

  private link(expected: number, previousHash: string, record: AuditRecord): VerifierStatus {
    if (!isWellFormedLink(record)) return this.fail({ position: expected, reason: 'record_malformed', message: `the record at position ${expected} has no usable position or hashes` });
    if (record.position > expected) {
      this.state = { status: 'gap_pending', missing: expected, after: record.position, readAhead: 0 };
      return 'suspect';
    }
    if (record.position < expected) {
      return this.fail({ position: expected, reason: 'position_out_of_order', message: `position ${record.position} appears again where ${expected} was expected` });
    }
    if (record.previousHash !== previousHash) {
      return this.fail({ position: expected, reason: 'previous_hash_mismatch', message: `record ${expected} links to ${record.previousHash}, the chain has ${previousHash}` });
    }
    let hash: string;
    try {
      hash = computeRecordHash(previousHash, record);
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error;
      return this.fail({ position: expected, reason: 'record_malformed', message: `record ${expected} holds a value with no canonical JSON form (${error.path})` });
    }
    if (hash !== record.hash) {
      return this.fail({ position: expected, reason: 'hash_mismatch', message: `record ${expected} hashes to ${hash}, it claims ${record.hash}` });
    }
    this.recordsChecked++;
    this.headHash = hash;
    for (const checkpoint of this.takeCheckpointsAt(expected)) {
      const invalid = this.checkCheckpoint(checkpoint);
      if (invalid !== null) return this.fail(invalid);
      if (checkpoint.headHash !== hash) {
        return this.fail({ position: expected, reason: 'checkpoint_head_mismatch', message: `the checkpoint signed by ${checkpoint.keyId} at ${expected} has head ${checkpoint.headHash}, the chain has ${hash}` });
      }
    }
    this.state = { status: 'linking', expected: expected + 1, previousHash: hash };
    return 'ok';
  }

  private readAhead(state: Extract<State, { status: 'gap_pending' }>, record: AuditRecord): VerifierStatus {
    if (isWellFormedLink(record) && record.position === state.missing) {
      return this.fail({ position: state.missing, reason: 'position_out_of_order', message: `record ${state.missing} appears after record ${state.after}` });
    }
    const readAhead = state.readAhead + 1;
    if (readAhead >= this.reorderWindow) return this.fail(gapFailure(state.missing, state.after));
    this.state = { ...state, readAhead };
    return 'suspect';
  }

  /** Validates the checkpoints positioned before `limit + 1`; the first failure, if any. */
  private takeCheckpointsBefore(limit: number): ChainFailure | null {
    while (this.next < this.checkpoints.length && this.checkpoints[this.next].toPosition < limit) {
      const invalid = this.checkCheckpoint(this.checkpoints[this.next++]);
      if (invalid !== null) return invalid;
    }
    return null;
  }

  private takeCheckpointsAt(position: number): SignedCheckpoint[] {
    const taken: SignedCheckpoint[] = [];
    while (this.next < this.checkpoints.length && this.checkpoints[this.next].toPosition === position) taken.push(this.checkpoints[this.next++]);
    return taken;
  }

  /** Shape, range and signature; a valid checkpoint counts as verified. */
  private checkCheckpoint(checkpoint: SignedCheckpoint): ChainFailure | null {
    const position = checkpoint.toPosition;
    if (!signedCheckpointSchema.safeParse(checkpoint).success || !isCheckpointBodyConsistent(checkpoint)) {
      return { position, reason: 'checkpoint_malformed', message: `the checkpoint at ${position} has an invalid range, count, hash, time, key id or signature encoding` };
    }
    const signature = verifyCheckpointSignature(checkpoint, this.publicKeys);
    if (signature !== 'valid') {
      const why = signature === 'unknown_key' ? `its key id ${checkpoint.keyId} is not in the public key ring` : `its signature does not verify under key ${checkpoint.keyId}`;
      return { position, reason: 'checkpoint_signature_invalid', message: `the checkpoint at ${position} is not trustworthy: ${why}` };
    }
    // A second checkpoint at the same position (the same one read from two sinks) needs no new link.
    if (this.contiguousCheckpoints && position !== this.lastCheckpointPosition) {
      const expectedFrom = (this.lastCheckpointPosition ?? 0) + 1;
      if (checkpoint.fromPosition !== expectedFrom) {
        return {
          position: checkpoint.fromPosition - 1,
          reason: 'checkpoint_missing',
          message: `the checkpoint at ${position} starts at ${checkpoint.fromPosition}, the one before ends at ${expectedFrom - 1}: a checkpoint is missing`,
        };
      }
    }
    this.checkpointsVerified++;
    this.lastCheckpointPosition = position;
    return null;
  }

  /**
   * At the end, checkpoints beyond the last record mean records are missing, but only a valid one
   * proves it: a forged checkpoint far ahead must not make a sound log look truncated.
   */
  private checkTail(lastPosition: number | null): ChainFailure | null {
    const firstMissing = lastPosition === null ? (this.expectedFirstPosition ?? 1) : lastPosition + 1;
    let firstInvalid: ChainFailure | null = null;
    while (this.next < this.checkpoints.length) {
      const checkpoint = this.checkpoints[this.next++];
      const invalid = this.checkCheckpoint(checkpoint);
      if (invalid === null) {
        return {
          position: firstMissing,
          reason: 'truncated_after_checkpoint',
          message: `the checkpoint signed by ${checkpoint.keyId} covers position ${checkpoint.toPosition}; the log ends ${lastPosition === null ? 'empty' : `at ${lastPosition}`}`,
        };
      }
      firstInvalid ??= invalid;
    }
    return firstInvalid;
  }

  /** With `checkpointEvery`, a tail longer than the policy allows means its checkpoint was removed. */
  private checkUncheckpointedTail(lastPosition: number | null): ChainFailure | null {
    const every = this.checkpointEvery;
    if (every === undefined || lastPosition === null) return null;
    const covered = this.lastCheckpointPosition ?? 0;
    if (lastPosition - covered < every) return null;
    const due = (Math.floor(covered / every) + 1) * every;
    return { position: due, reason: 'checkpoint_missing', message: `${lastPosition - covered} records follow the checkpoint at ${covered}; the policy signs one every ${every}` };
  }

  private fail(failure: ChainFailure): VerifierStatus {
    this.state = { status: 'failed', failure };
    return 'failed';
  }

  private failed(failure: ChainFailure): ChainVerification {
    return { ok: false, failure, recordsChecked: this.recordsChecked };
  }
}

function gapFailure(missing: number, after: number): ChainFailure {
  return { position: missing, reason: 'position_gap', message: `record ${missing} is missing (the next record read was ${after})` };
}

function isWellFormedLink(record: AuditRecord): boolean {
  return typeof record === 'object' && record !== null && Number.isSafeInteger(record.position) && record.position >= 1 && isHexHash(record.previousHash) && isHexHash(record.hash);
}

export interface VerifyChainOptions {
  readonly expectedFirstPosition?: number;
  readonly reorderWindow?: number;
  readonly contiguousCheckpoints?: boolean;
  readonly checkpointEvery?: number;
}

/** Verifies records already in memory or produced lazily by a generator. */
export function verifyChain(
  records: Iterable<AuditRecord>,
  checkpoints: Iterable<SignedCheckpoint>,
  publicKeys: PublicKeyRing,
  options: VerifyChainOptions = {},
): ChainVerification {
  const verifier = new ChainVerifier({ checkpoints, publicKeys, ...options });
  verifier.pushAll(records);
  return verifier.finish();
}

/** Verifies batches read one at a time (a keyset-paginated query, an export file's lines). */
export async function verifyChainBatches(
  batches: AsyncIterable<Iterable<AuditRecord>>,
  checkpoints: Iterable<SignedCheckpoint>,
  publicKeys: PublicKeyRing,
  options: VerifyChainOptions = {},
): Promise<ChainVerification> {
  const verifier = new ChainVerifier({ checkpoints, publicKeys, ...options });
  for await (const batch of batches) {
    if (verifier.pushAll(batch) === 'failed') break;
  }
  return verifier.finish();
}
