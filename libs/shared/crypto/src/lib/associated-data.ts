/**
 * Encodes a fixed list of fields as AES-GCM associated data: for each field, its UTF-8 byte length
 * as a 32-bit big-endian integer, then the bytes. Without the length prefix, purpose "ab" + user
 * "c" and purpose "a" + user "bc" would produce the same bytes, and a ciphertext bound to one row
 * would verify for another (S28).
 *
 * The encoding is injective only for well-formed strings: UTF-8 maps every lone surrogate to the
 * same replacement character. Callers reject ill-formed input before calling.
 */
export function encodeFields(fields: readonly string[]): Buffer {
  let total = 0;
  for (const field of fields) total += 4 + Buffer.byteLength(field, 'utf8');
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const field of fields) {
    const written = out.write(field, offset + 4, 'utf8');
    out.writeUInt32BE(written, offset);
    offset += 4 + written;
  }
  return out;
}
