import { createHash } from 'node:crypto';
import { type RandomSource } from '../crypto/random';
import { type BackupCodeKdf, scryptBackupCodeKdf } from '../methods/backup-codes/backup-codes';
import { type ConditionalWrite } from '../methods/method';

/** Test-only helpers; not exported from the library's index. */

/** A reproducible byte stream (SHA-256 in counter mode) that records every request made of it. */
export function recordingRandom(seed = 'tessera-test'): RandomSource & { readonly requests: number[] } {
  let block = 0;
  const requests: number[] = [];
  const source = (byteLength: number): Uint8Array => {
    requests.push(byteLength);
    const out = new Uint8Array(byteLength);
    for (let offset = 0; offset < byteLength; offset += 32) {
      out.set(createHash('sha256').update(`${seed}:${block++}`).digest().subarray(0, byteLength - offset), offset);
    }
    return out;
  };
  return Object.assign(source, { requests });
}

/** A random source that returns the given bytes, in order, and then fails. */
export function scriptedRandom(bytes: readonly number[]): RandomSource {
  let position = 0;
  return (byteLength) => {
    if (position + byteLength > bytes.length) throw new Error('scripted random source exhausted');
    const out = Uint8Array.from(bytes.slice(position, position + byteLength));
    position += byteLength;
    return out;
  };
}

/** Wraps a KDF and counts its invocations, to prove "one KDF per attempt" (S11). */
export function countingKdf(inner: BackupCodeKdf = scryptBackupCodeKdf): BackupCodeKdf & { calls: number } {
  const kdf = Object.assign(
    async (...args: Parameters<BackupCodeKdf>) => {
      kdf.calls += 1;
      return inner(...args);
    },
    { calls: 0 },
  );
  return kdf;
}

/**
 * An in-memory row that applies `ConditionalWrite`s the way the persistence layer must (one atomic
 * conditional UPDATE each): a write whose condition no longer holds changes nothing and reports it.
 */
export function conditionalRow(initial: { lastStep: number | null; usedAt: Date | null }) {
  const row = { ...initial };
  return {
    row,
    apply(write: ConditionalWrite): boolean {
      switch (write.kind) {
        case 'advance_time_step':
          if (row.lastStep !== null && row.lastStep >= write.to) return false;
          row.lastStep = write.to;
          return true;
        case 'mark_used':
          if (row.usedAt !== null) return false;
          row.usedAt = write.at;
          return true;
      }
    },
  };
}

export function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'ascii'));
}
