/**
 * Canonical JSON: the one byte string the hash chain and checkpoint signatures are computed over.
 *
 * A hash chain is only verifiable if every reader, in any language and years later, turns a record
 * into the same bytes. Plain `JSON.stringify` does not promise that: key order follows insertion
 * order, so the same record read back from PostgreSQL JSONB (which reorders keys) would hash
 * differently. The rules below follow the JSON Canonicalization Scheme (RFC 8785) for the subset
 * of JSON the audit log uses:
 *
 * - Object members are sorted by key, comparing UTF-16 code units (RFC 8785 §3.2.3); JavaScript's
 *   default string comparison is exactly that order.
 * - No whitespace between tokens (§3.2.1).
 * - Strings are escaped as ECMAScript's `JSON.stringify` does, which RFC 8785 §3.2.2.2 adopts:
 *   `\"`, `\\`, `\b \f \n \r \t`, other controls as `\u00xx` lowercase, everything else literal.
 * - Numbers are serialised as ECMAScript's Number-to-String (§3.2.2.3): again what
 *   `JSON.stringify` produces for a finite number (and `-0` becomes `0`).
 * - Arrays keep their order.
 *
 * Narrower than RFC 8785 on purpose, because a value we cannot reproduce is worse than an error:
 * - Only plain objects, arrays, strings, finite numbers, booleans and null. `undefined`, functions,
 *   symbols, bigints, `Date`s, Buffers and class instances throw instead of being silently dropped
 *   or converted (`JSON.stringify` drops `undefined` members, which would let two different
 *   records share a hash).
 * - Strings must be well-formed UTF-16 (I-JSON, RFC 7493 §2.1, which RFC 8785 §3.2.2.2 requires):
 *   a lone surrogate throws.
 * - NaN and ±Infinity throw (they have no JSON form; `JSON.stringify` would write `null`).
 * - Nesting deeper than 32 levels throws, which also catches cycles.
 */
export class CanonicalJsonError extends Error {
  private readonly segments: string[] = [];
  private readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'CanonicalJsonError';
    this.reason = reason;
  }

  /** Where the offending value sits, e.g. `$.details.when` or `$.items[2]`. */
  get path(): string {
    return `$${this.segments.join('')}`;
  }

  /** @internal Called on the way out of the recursion, so the happy path builds no path strings. */
  within(segment: string): this {
    this.segments.unshift(segment);
    this.message = `${this.reason} at ${this.path}`;
    return this;
  }
}

/** The JSON values canonical JSON accepts. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

const MAX_DEPTH = 32;
/** Characters `JSON.stringify` escapes in a well-formed string; most strings have none. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

export function canonicalJson(value: unknown): string {
  try {
    return write(value, 0);
  } catch (error) {
    if (error instanceof CanonicalJsonError) error.within('');
    throw error;
  }
}

/** The UTF-8 bytes of {@link canonicalJson}: what is hashed and signed. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

function write(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(`nesting deeper than ${MAX_DEPTH} levels (or a cycle)`);
  switch (typeof value) {
    case 'string':
      return writeString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError('a non-finite number has no JSON form');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        let i = 0;
        try {
          for (; i < value.length; i++) out += (i > 0 ? ',' : '') + write(value[i], depth + 1);
        } catch (error) {
          throw error instanceof CanonicalJsonError ? error.within(`[${i}]`) : error;
        }
        return out + ']';
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new CanonicalJsonError('only plain objects are allowed (not a Date, Buffer, Map or class instance)');
      }
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, the order RFC 8785 §3.2.3 prescribes.
      const keys = Object.keys(record).sort();
      let out = '{';
      let i = 0;
      try {
        for (; i < keys.length; i++) out += (i > 0 ? ',' : '') + writeKey(keys[i]) + write(record[keys[i]], depth + 1);
      } catch (error) {
        throw error instanceof CanonicalJsonError ? error.within(`.${keys[i]}`) : error;
      }
      return out + '}';
    }
    default:
      // undefined, function, symbol, bigint: JSON.stringify would drop or throw inconsistently.
      throw new CanonicalJsonError(`a value of type ${typeof value} has no canonical JSON form`);
  }
}

/**
 * Member names repeat in every record, so their quoted form is memoised: it is most of the
 * strings written. Bounded so that hostile input with ever-new keys cannot grow it without limit.
 */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 4096;

function writeKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = writeString(key) + ':';
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function writeString(value: string): string {
  if (!value.isWellFormed()) throw new CanonicalJsonError('a string with a lone surrogate is not I-JSON');
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"';
}
