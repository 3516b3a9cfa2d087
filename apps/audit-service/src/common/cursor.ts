import { ApiError } from '@tessera/platform';

export type SortOrder = 'asc' | 'desc';

/**
 * Keyset pagination over record positions: a cursor is the last position served and the direction,
 * base64url-encoded so clients treat it as opaque. It carries no filter: a cursor used with other
 * filters simply continues from that position, which reveals nothing the caller could not ask for.
 */
export function encodeCursor(order: SortOrder, position: number): string {
  return Buffer.from(`${order === 'asc' ? 'a' : 'd'}:${position}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, order: SortOrder): number {
  const match = /^([ad]):([1-9][0-9]{0,15})$/.exec(/^[A-Za-z0-9_-]{1,40}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '');
  if (match === null) throw new ApiError(400, 'invalid_cursor', 'The cursor is not one this API returned.');
  if ((match[1] === 'a') !== (order === 'asc')) throw new ApiError(400, 'invalid_cursor', 'The cursor was returned for the other sort order.');
  return Number(match[2]);
}
