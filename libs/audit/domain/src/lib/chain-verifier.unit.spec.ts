import { type AuditRecord } from './audit-record';
import { type ChainVerification, ChainVerifier, verifyChain, verifyChainBatches } from './chain-verifier';
import { type SignedCheckpoint, createCheckpoint } from './checkpoint';
import { GENESIS_HASH, GENESIS_HEAD, appendToChain, computeRecordHash } from './hash-chain';
import { personalValue } from './personal-data';
import { planRetentionCut } from './retention';
import { revealRecord, subjectUserIdOf } from './reveal';
import { type ChainBuilder, buildChain, signingFixture } from '../test-support/audit-fixtures';

const COUNT = 1_000;
const EVERY = 100;

function failureOf(result: ChainVerification): { position: number; reason: string } {
  if (result.ok) throw new Error('expected verification to fail, it passed');
  return { position: result.failure.position, reason: result.failure.reason };
}

/** A copy of record `i` (0-based) with `change` applied, hashes untouched. */
function altered(record: AuditRecord, change: Partial<AuditRecord>): AuditRecord {
  return { ...record, ...change };
}

/** Recomputes the hash of every record from `from` (0-based) on: what a writer with table access can do. */
function rehashFrom(records: AuditRecord[], from: number): AuditRecord[] {
  const out = records.slice(0, from);
  let previousHash = from === 0 ? GENESIS_HASH : records[from - 1].hash;
  for (let i = from; i < records.length; i++) {
    const positioned = { ...records[i], position: i + 1, previousHash };
    const hash = computeRecordHash(previousHash, positioned);
    out.push({ ...positioned, hash });
    previousHash = hash;
  }
  return out;
}

describe('audit chain verification (R8)', () => {
  let chain: ChainBuilder;
  let records: AuditRecord[];
  let checkpoints: SignedCheckpoint[];
  let publicKeys: ReturnType<typeof signingFixture>['publicKeys'];

  beforeAll(() => {
    const signing = signingFixture();
    chain = buildChain(COUNT, EVERY, signing);
    records = chain.records;
    checkpoints = chain.checkpoints;
    publicKeys = signing.publicKeys;
  });

  const verify = (rs: Iterable<AuditRecord>, cps: Iterable<SignedCheckpoint> = checkpoints, options = {}) => verifyChain(rs, cps, publicKeys, options);

  describe('when nothing was touched', () => {
    it('R8: a chain of 1,000 records with 10 signed checkpoints verifies', () => {
      const result = verify(records);
      expect(result).toMatchObject({ ok: true, recordCount: COUNT, firstPosition: 1, lastPosition: COUNT, checkpointsVerified: 10, lastCheckpointPosition: COUNT, anchor: null });
      expect(result.ok && result.headHash).toBe(records[COUNT - 1].hash);
    });

    it('R8: records link from the fixed genesis hash and carry their position and previous hash', () => {
      expect(records[0]).toMatchObject({ position: 1, previousHash: GENESIS_HASH });
      for (let i = 1; i < records.length; i++) {
        expect(records[i].position).toBe(i + 1);
        expect(records[i].previousHash).toBe(records[i - 1].hash);
      }
    });

    it('R8: an empty log with no checkpoints verifies', () => {
      expect(verify([], [])).toMatchObject({ ok: true, recordCount: 0, lastPosition: null, headHash: GENESIS_HASH });
    });

    it('R8: streaming in batches of 64 gives the answer of one pass and reports the uncheckpointed tail', async () => {
      const signing = signingFixture('rotated-2');
      const longer = buildChain(1_050, EVERY, signing);
      async function* batches(): AsyncGenerator<AuditRecord[]> {
        for (let i = 0; i < longer.records.length; i += 64) yield longer.records.slice(i, i + 64);
      }
      const streamed = await verifyChainBatches(batches(), longer.checkpoints, signing.publicKeys);
      expect(streamed).toEqual(verifyChain(longer.records, longer.checkpoints, signing.publicKeys));
      expect(streamed).toMatchObject({ ok: true, recordCount: 1_050, lastCheckpointPosition: 1_000, recordsAfterLastCheckpoint: 50 });
    });

    it('R8: checkpoints verified against the wrong public key ring fail', () => {
      expect(failureOf(verifyChain(records, checkpoints, signingFixture().publicKeys))).toEqual({ position: 100, reason: 'checkpoint_signature_invalid' });
    });
  });

  describe('when a record was altered', () => {
    it('R8: altering a field without fixing the hash is hash_mismatch at that record', () => {
      const tampered = [...records];
      tampered[499] = altered(records[499], { outcome: records[499].outcome === 'success' ? 'failure' : 'success' });
      expect(failureOf(verify(tampered))).toEqual({ position: 500, reason: 'hash_mismatch' });
    });

    it('R8: altering a detail value nested in the record is hash_mismatch at that record', () => {
      const tampered = [...records];
      tampered[241] = altered(records[241], { details: { ...records[241].details, injected: 'x' } });
      expect(failureOf(verify(tampered))).toEqual({ position: 242, reason: 'hash_mismatch' });
    });

    it('R8: altering a field and recomputing its hash breaks the next link: previous_hash_mismatch at the following record', () => {
      const tampered = [...records];
      const changed = { ...records[449], actor: { kind: 'admin' as const, id: 'someone-else' } };
      tampered[449] = { ...changed, hash: computeRecordHash(changed.previousHash, changed) };
      expect(failureOf(verify(tampered))).toEqual({ position: 451, reason: 'previous_hash_mismatch' });
    });

    it('R8: altering a checkpointed record and recomputing its hash is checkpoint_head_mismatch at that record', () => {
      const tampered = [...records];
      const changed = { ...records[499], actor: { kind: 'admin' as const, id: 'someone-else' } };
      tampered[499] = { ...changed, hash: computeRecordHash(changed.previousHash, changed) };
      expect(failureOf(verify(tampered))).toEqual({ position: 500, reason: 'checkpoint_head_mismatch' });
    });

    it('R8: rewriting a record and recomputing every later hash is caught by the next signed checkpoint', () => {
      const rewritten = [...records];
      rewritten[449] = { ...records[449], ticket: 'FORGED-1' };
      expect(failureOf(verify(rehashFrom(rewritten, 449)))).toEqual({ position: 500, reason: 'checkpoint_head_mismatch' });
    });

    it('R8: swapping the sealed personal block of two records is hash_mismatch at the first of them', () => {
      const tampered = [...records];
      tampered[10] = altered(records[10], { personal: records[20].personal });
      tampered[20] = altered(records[20], { personal: records[10].personal });
      expect(failureOf(verify(tampered))).toEqual({ position: 11, reason: 'hash_mismatch' });
    });

    it('R8: a value with no canonical JSON form is record_malformed, not a crash', () => {
      const tampered = [...records];
      tampered[4] = altered(records[4], { details: { when: new Date(0) as never } });
      expect(failureOf(verify(tampered))).toEqual({ position: 5, reason: 'record_malformed' });
    });
  });

  describe('when a record was deleted', () => {
    it('R8: deleting one record is position_gap at its position', () => {
      const tampered = records.filter((r) => r.position !== 500);
      expect(failureOf(verify(tampered))).toEqual({ position: 500, reason: 'position_gap' });
    });

    it('R8: deleting the first record is position_gap at position 1', () => {
      expect(failureOf(verify(records.slice(1)))).toEqual({ position: 1, reason: 'position_gap' });
    });

    it('R8: deleting a record and renumbering the rest is previous_hash_mismatch where it was', () => {
      const tampered = records.filter((r) => r.position !== 500).map((r) => (r.position > 500 ? { ...r, position: r.position - 1 } : r));
      expect(failureOf(verify(tampered))).toEqual({ position: 500, reason: 'previous_hash_mismatch' });
    });

    it('R8: deleting a record, renumbering and rehashing the rest is caught by the next checkpoint', () => {
      const tampered = rehashFrom(
        records.filter((r) => r.position !== 450),
        449,
      );
      expect(failureOf(verify(tampered))).toEqual({ position: 500, reason: 'checkpoint_head_mismatch' });
    });

    it('R8: a gap far from where the missing record would be found is settled after the reorder window', () => {
      const verifier = new ChainVerifier({ checkpoints, publicKeys, reorderWindow: 5 });
      const statuses = records.filter((r) => r.position !== 300).map((r) => verifier.push(r));
      expect(statuses.slice(0, 299).every((s) => s === 'ok')).toBe(true);
      expect(statuses.slice(299, 304)).toEqual(['suspect', 'suspect', 'suspect', 'suspect', 'suspect']);
      expect(statuses[304]).toBe('failed');
      expect(failureOf(verifier.finish())).toEqual({ position: 300, reason: 'position_gap' });
    });
  });

  describe('when a record was inserted', () => {
    it('R8: inserting a copied record is previous_hash_mismatch at the insertion point', () => {
      const forged = { ...records[99], position: 500 };
      const tampered = [...records.slice(0, 499), forged, ...records.slice(499).map((r) => ({ ...r, position: r.position + 1 }))];
      expect(failureOf(verify(tampered))).toEqual({ position: 500, reason: 'previous_hash_mismatch' });
    });

    it('R8: inserting a correctly linked record without renumbering is position_out_of_order right after it', () => {
      const forged = appendToChain({ position: 449, hash: records[448].hash }, { ...records[10], ticket: 'FORGED' });
      const tampered = [...records.slice(0, 449), forged, ...records.slice(449)];
      expect(failureOf(verify(tampered))).toEqual({ position: 451, reason: 'position_out_of_order' });
    });

    it('R8: inserting a linked record and renumbering and rehashing the rest is caught by the next checkpoint', () => {
      const forged = appendToChain({ position: 499, hash: records[498].hash }, { ...records[10], ticket: 'FORGED' });
      const tampered = rehashFrom([...records.slice(0, 499), forged, ...records.slice(499)], 499);
      expect(failureOf(verify(tampered))).toEqual({ position: 500, reason: 'checkpoint_head_mismatch' });
    });
  });

  describe('when records were reordered', () => {
    it('R8: swapping two records in storage is position_out_of_order at the earlier position', () => {
      const tampered = [...records];
      [tampered[399], tampered[699]] = [tampered[699], tampered[399]];
      expect(failureOf(verify(tampered))).toEqual({ position: 400, reason: 'position_out_of_order' });
    });

    it('R8: swapping two adjacent records is position_out_of_order at the earlier position', () => {
      const tampered = [...records];
      [tampered[699], tampered[700]] = [tampered[700], tampered[699]];
      expect(failureOf(verify(tampered))).toEqual({ position: 700, reason: 'position_out_of_order' });
    });

    it('R8: swapping two records and their position numbers is previous_hash_mismatch at the earlier position', () => {
      const tampered = [...records];
      tampered[399] = { ...records[699], position: 400 };
      tampered[699] = { ...records[399], position: 700 };
      expect(failureOf(verify(tampered))).toEqual({ position: 400, reason: 'previous_hash_mismatch' });
    });
  });

  describe('when checkpoints were tampered with', () => {
    it('R8: an altered checkpoint signature is checkpoint_signature_invalid at its position', () => {
      const tampered = checkpoints.map((cp) => (cp.toPosition === 300 ? { ...cp, signature: flipLastChar(cp.signature) } : cp));
      expect(failureOf(verify(records, tampered))).toEqual({ position: 300, reason: 'checkpoint_signature_invalid' });
    });

    it('R8: a checkpoint whose head was changed no longer verifies its signature', () => {
      const tampered = checkpoints.map((cp) => (cp.toPosition === 300 ? { ...cp, headHash: records[298].hash } : cp));
      expect(failureOf(verify(records, tampered))).toEqual({ position: 300, reason: 'checkpoint_signature_invalid' });
    });

    it('R8: a checkpoint signed by a key outside the ring is checkpoint_signature_invalid', () => {
      const stranger = signingFixture('audit-cp-1');
      const forged = createCheckpoint({ previousToPosition: 200, head: { position: 300, hash: records[299].hash }, createdAt: records[299].recordedAt }, stranger.signer);
      const tampered = checkpoints.map((cp) => (cp.toPosition === 300 ? forged : cp));
      expect(failureOf(verify(records, tampered))).toEqual({ position: 300, reason: 'checkpoint_signature_invalid' });
    });

    it('R8: a record altered before a bad checkpoint is reported first: the first bad position wins', () => {
      const tamperedCps = checkpoints.map((cp) => (cp.toPosition === 900 ? { ...cp, signature: flipLastChar(cp.signature) } : cp));
      const tamperedRecords = [...records];
      tamperedRecords[122] = altered(records[122], { eventType: 'Forged' });
      expect(failureOf(verify(tamperedRecords, tamperedCps))).toEqual({ position: 123, reason: 'hash_mismatch' });
    });
  });

  describe('when the tail was truncated', () => {
    it('R8: deleting the records after position 950 while a checkpoint covers 1,000 is truncated_after_checkpoint at 951', () => {
      expect(failureOf(verify(records.slice(0, 950)))).toEqual({ position: 951, reason: 'truncated_after_checkpoint' });
    });

    it('R8: deleting every record while checkpoints exist is truncated_after_checkpoint at position 1', () => {
      expect(failureOf(verify([]))).toEqual({ position: 1, reason: 'truncated_after_checkpoint' });
    });

    it('R8: a forged checkpoint beyond the end does not make a sound log look truncated', () => {
      const bogus = { ...checkpoints[9], toPosition: 5_000, fromPosition: 4_901, signature: flipLastChar(checkpoints[9].signature) };
      expect(failureOf(verify(records, [...checkpoints, bogus]))).toEqual({ position: 5_000, reason: 'checkpoint_signature_invalid' });
    });
  });

  describe('when personal data was crypto-shredded', () => {
    it('R8: destroying users\u2019 data keys keeps the chain verifiable and makes their fields read as erased', () => {
      const victim = records.find((r) => r.subjectRef !== null && r.eventType === 'WebAuthnCredentialRegistered');
      if (!victim?.subjectRef) throw new Error('fixture has no enrolment');
      const before = revealRecord(victim, chain.keys.lookup);
      const userId = subjectUserIdOf(before);
      expect(typeof userId).toBe('string');
      chain.keys.destroy(userId as string, '2025-06-01T00:00:00.000Z');

      expect(verify(records)).toMatchObject({ ok: true, recordCount: COUNT });
      const after = revealRecord(victim, chain.keys.lookup);
      expect(after.personal.status).toBe('erased');
      expect(subjectUserIdOf(after)).toEqual({ erased: true });
      expect(personalValue(after.personal, 'name')).toEqual({ erased: true });
      expect(JSON.stringify(after)).not.toContain(userId as string);
      // Other users' records are untouched.
      const other = records.find((r) => r.subjectRef !== null && r.subjectRef !== victim.subjectRef);
      expect(revealRecord(other as AuditRecord, chain.keys.lookup).personal.status).toBe('available');
    });
  });

  describe('when old records were removed by retention', () => {
    it('R8: deleting records 1..400 after a signed checkpoint at 400 verifies, anchored by it', () => {
      const cut = planRetentionCut({ checkpoints, publicKeys, firstPositionToKeep: 437, alreadyDeletedThrough: 0, headPosition: COUNT });
      expect(cut?.deleteThroughPosition).toBe(400);
      const kept = records.filter((r) => r.position > (cut?.deleteThroughPosition ?? 0));
      const result = verify(kept, checkpoints, { expectedFirstPosition: 401 });
      expect(result).toMatchObject({ ok: true, firstPosition: 401, lastPosition: COUNT, recordCount: 600, checkpointsVerified: 10 });
      expect(result.ok && result.anchor?.toPosition).toBe(400);
    });

    it('R8: deleting records up to a position no checkpoint covers is position_gap after the last anchor', () => {
      expect(failureOf(verify(records.slice(437)))).toEqual({ position: 401, reason: 'position_gap' });
    });

    it('R8: a retention cut beyond the one the service recorded is position_gap at the recorded start', () => {
      expect(failureOf(verify(records.slice(500), checkpoints, { expectedFirstPosition: 401 }))).toEqual({ position: 401, reason: 'position_gap' });
    });

    it('R8: an anchor checkpoint with a bad signature cannot legitimise a cut', () => {
      const tampered = checkpoints.map((cp) => (cp.toPosition === 400 ? { ...cp, signature: flipLastChar(cp.signature) } : cp));
      expect(failureOf(verify(records.slice(400), tampered))).toEqual({ position: 400, reason: 'checkpoint_signature_invalid' });
    });

    it('R8: a first remaining record that does not link to the anchor is previous_hash_mismatch', () => {
      const kept = records.slice(400);
      kept[0] = { ...kept[0], previousHash: records[0].hash };
      expect(failureOf(verify(kept))).toEqual({ position: 401, reason: 'previous_hash_mismatch' });
    });

    it('R8: the retention plan rounds down to a verified checkpoint and never deletes the newest record', () => {
      expect(planRetentionCut({ checkpoints, publicKeys, firstPositionToKeep: 99, alreadyDeletedThrough: 0, headPosition: COUNT })).toBeNull();
      expect(planRetentionCut({ checkpoints, publicKeys, firstPositionToKeep: 5_000, alreadyDeletedThrough: 0, headPosition: COUNT })?.deleteThroughPosition).toBe(900);
      expect(planRetentionCut({ checkpoints, publicKeys, firstPositionToKeep: 450, alreadyDeletedThrough: 400, headPosition: COUNT })).toBeNull();
      const badAt400 = checkpoints.map((cp) => (cp.toPosition === 400 ? { ...cp, signature: flipLastChar(cp.signature) } : cp));
      expect(planRetentionCut({ checkpoints: badAt400, publicKeys, firstPositionToKeep: 450, alreadyDeletedThrough: 0, headPosition: COUNT })?.deleteThroughPosition).toBe(300);
    });
  });

  describe('when a checkpoint was removed from the store', () => {
    const without = (position: number) => checkpoints.filter((checkpoint) => checkpoint.toPosition !== position);

    it('R8: a checkpoint deleted from the middle is checkpoint_missing where it signed the head, once continuity is required', () => {
      expect(verify(records, without(500)).ok).toBe(true);
      expect(failureOf(verify(records, without(500), { contiguousCheckpoints: true }))).toEqual({ position: 500, reason: 'checkpoint_missing' });
    });

    it('R8: the newest checkpoint deleted with every record after 900 rewritten is checkpoint_missing at 1000 under the policy', () => {
      const rewritten = rehashFrom(records.map((record, i) => (i === 949 ? altered(record, { ticket: 'HD-forged' }) : record)), 949);
      expect(verify(rewritten, without(COUNT)).ok).toBe(true);
      expect(failureOf(verify(rewritten, without(COUNT), { checkpointEvery: EVERY }))).toEqual({ position: COUNT, reason: 'checkpoint_missing' });
    });

    it('R8: the same checkpoint read twice (database and sink) and a tail shorter than the policy are fine', () => {
      const result = verify(records.slice(0, 950), [...checkpoints, ...checkpoints].filter((checkpoint) => checkpoint.toPosition <= 900), { checkpointEvery: EVERY });
      expect(result).toMatchObject({ ok: true, lastCheckpointPosition: 900, recordsAfterLastCheckpoint: 50 });
    });

    it('R8: continuity holds across a retention cut, whose checkpoints are never deleted', () => {
      expect(verify(records.slice(400), checkpoints, { expectedFirstPosition: 401, checkpointEvery: EVERY }).ok).toBe(true);
      expect(failureOf(verify(records.slice(400), without(200), { expectedFirstPosition: 401, checkpointEvery: EVERY }))).toEqual({ position: 200, reason: 'checkpoint_missing' });
    });
  });

  describe('cost', () => {
    it('R8: prints the verify time per 100,000 records (measured, not asserted)', () => {
      const signing = signingFixture('bench');
      const bench = buildChain(100_000, 1_000, signing);
      const started = process.hrtime.bigint();
      const result = verifyChain(bench.records, bench.checkpoints, signing.publicKeys);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expect(result).toMatchObject({ ok: true, recordCount: 100_000, checkpointsVerified: 100 });
      console.log(`audit chain: verified 100,000 records and 100 checkpoints in ${ms.toFixed(0)} ms (${Math.round(100_000 / (ms / 1000)).toLocaleString('en')} records/s)`);
    });
  });
});

function flipLastChar(signature: string): string {
  // The last base64url character of a 64-byte value carries real bits in its top 2 only; flip a middle one.
  const i = 10;
  return signature.slice(0, i) + (signature[i] === 'A' ? 'B' : 'A') + signature.slice(i + 1);
}

describe('chain appending (R8)', () => {
  it('R8: appendToChain refuses a malformed head', () => {
    expect(() => appendToChain({ position: -1, hash: GENESIS_HASH }, {} as never)).toThrow('chain head');
    expect(() => appendToChain({ position: 0, hash: 'zz' }, {} as never)).toThrow('chain head');
  });

  it('R8: a record hash depends on its position, so a record moved elsewhere no longer matches', () => {
    const chain = buildChain(2, 10);
    const record = chain.records[1];
    expect(computeRecordHash(record.previousHash, record)).toBe(record.hash);
    expect(computeRecordHash(record.previousHash, { ...record, position: 7 })).not.toBe(record.hash);
    expect(appendToChain(GENESIS_HEAD, record).position).toBe(1);
  });
});
