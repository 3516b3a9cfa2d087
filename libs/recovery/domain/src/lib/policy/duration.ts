/**
 * Durations in policy documents: a whole number and one unit, e.g. "60s", "15m", "24h", "7d".
 *
 * Parsed strictly on purpose. A policy sets how long an attacker must wait before a recovery goes
 * through, so "1.5d", "24 h", "24H", "1d12h", "-1h" or "024h" are refused rather than guessed at: a
 * lenient parser that read "72hrs" as 72 ms would silently erase a cooling-off period.
 */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION_PATTERN = /^(0|[1-9][0-9]{0,5})([smhd])$/;

/** No policy duration may exceed a year; anything longer is a typo, not a decision. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;

/** Milliseconds for a duration string, or `undefined` when it is not one. */
export function tryParseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as Unit];
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/** Milliseconds for a duration string; throws on anything that is not exactly `<digits><s|m|h|d>`. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    throw new RangeError(`"${text}" is not a duration: use a whole number and one unit of s, m, h or d (e.g. "24h"), at most 366d`);
  }
  return ms;
}

/** The largest whole unit that represents `ms` exactly, e.g. 259200000 → "3d", 90000 → "90s". */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`${ms} is not a whole, non-negative number of milliseconds`);
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
