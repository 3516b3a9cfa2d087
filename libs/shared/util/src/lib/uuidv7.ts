import { randomFillSync } from 'node:crypto';

/**
 * Random bits are taken from a pool refilled from the CSPRNG 410 ids at a time (as Node's own
 * `randomUUID` does): on the verification hot path one `getrandom` per id was measurable. Every byte of
 * the pool is handed out once.
 */
const RANDOM_BYTES_PER_ID = 10;
const pool = Buffer.alloc(RANDOM_BYTES_PER_ID * 410);
let poolOffset = pool.length;

/**
 * A UUID version 7 (RFC 9562 §5.7): 48-bit Unix time in milliseconds, then 74 random bits.
 * Ids sort by creation time, which keeps B-tree inserts local and makes event ids readable in order.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  if (poolOffset + RANDOM_BYTES_PER_ID > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(Math.trunc(nowMs), 0, 6);
  pool.copy(bytes, 6, poolOffset, poolOffset + RANDOM_BYTES_PER_ID);
  poolOffset += RANDOM_BYTES_PER_ID;
  bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10xx (RFC 9562 §4.1)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
