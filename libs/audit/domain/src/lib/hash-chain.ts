import { createHash } from 'node:crypto';
import { AuditError } from './audit-error';
import { type AuditRecord, type SealedAuditEntry } from './audit-record';
import { canonicalJson } from './canonical-json';

/**
 * The hash chain (R8, CHAIN.md).
 *
 *   hash_0 = GENESIS_HASH
 *   hash_n = SHA-256( hash_{n-1} as 32 raw bytes || UTF-8( canonical(record_n) ) )
 *
 * where canonical(record_n) is the canonical JSON (canonical-json.ts) of the record without its
 * `hash` and `previousHash` members: the previous hash is already the prefix, and the record's own
 * `position` is inside, so a record moved to another position no longer matches its hash.
 * The hash covers the sealed (encrypted) personal block, never plaintext, which is what lets
 * crypto-shredding erase data without touching the chain (ERASURE.md).
 */

/**
 * SHA-256 of a fixed, versioned label rather than 32 zero bytes, so a chain cannot be confused
 * with another structure that also starts from zeros.
 */
export const GENESIS_HASH: string = createHash('sha256').update('tessera.audit.chain.v1.genesis', 'utf8').digest('hex');

/** Where the chain ends: position 0 and the genesis hash for an empty log. */
export interface ChainHead {
  readonly position: number;
  readonly hash: string;
}

export const GENESIS_HEAD: ChainHead = { position: 0, hash: GENESIS_HASH };

const HEX_HASH = /^[0-9a-f]{64}$/;

export function isHexHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_HASH.test(value);
}

/** The bytes hashed after the previous hash: the record minus its chain-link members. */
export function canonicalRecordBody(record: SealedAuditEntry & { readonly position: number }): string {
  // Destructuring away the two link members keeps every other member, including ones a future
  // version adds, inside the hash.
  const { hash: _hash, previousHash: _previousHash, ...body } = record as AuditRecord;
  return canonicalJson(body);
}

export function computeRecordHash(previousHash: string, record: SealedAuditEntry & { readonly position: number }): string {
  return createHash('sha256').update(Buffer.from(previousHash, 'hex')).update(canonicalRecordBody(record), 'utf8').digest('hex');
}

/** Appends one sealed entry after `head`; the new head is `{ position, hash }` of the result. */
export function appendToChain(head: ChainHead, entry: SealedAuditEntry): AuditRecord {
  if (!Number.isSafeInteger(head.position) || head.position < 0 || !isHexHash(head.hash)) {
    throw new AuditError('chain_head_invalid', 'a chain head is a non-negative position and a 64-digit lowercase hex hash');
  }
  const positioned = { ...stripLinks(entry), position: head.position + 1 };
  return { ...positioned, previousHash: head.hash, hash: computeRecordHash(head.hash, positioned) };
}

export function headOf(record: AuditRecord): ChainHead {
  return { position: record.position, hash: record.hash };
}

function stripLinks(entry: SealedAuditEntry): SealedAuditEntry {
  // An AuditRecord passed by mistake must not carry its old position or hashes along.
  const { position: _p, hash: _h, previousHash: _ph, ...rest } = entry as Partial<AuditRecord> & SealedAuditEntry;
  return rest;
}
