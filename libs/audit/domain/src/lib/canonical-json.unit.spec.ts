import { canonicalJson, CanonicalJsonError } from './canonical-json';

describe('canonical JSON for the audit hash chain (R8)', () => {
  it('R8: the same members in any insertion order give the same bytes', () => {
    const a = { position: 7, actor: { kind: 'admin', id: 'x' }, details: { b: [1, 2], a: null }, ok: true };
    const b = { ok: true, details: { a: null, b: [1, 2] }, actor: { id: 'x', kind: 'admin' }, position: 7 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"actor":{"id":"x","kind":"admin"},"details":{"a":null,"b":[1,2]},"ok":true,"position":7}');
  });

  it('R8: keys sort by UTF-16 code units as RFC 8785 §3.2.3 requires (its own example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the order from the text: JSON.parse would move the integer-like key "1" to the front.
    const keys = [...canonicalJson(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`));
    expect(keys).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('R8: integer-like keys sort as strings, not in the numeric order JavaScript objects keep', () => {
    expect(canonicalJson({ 9: 'a', 10: 'b', x: 'c' })).toBe('{"10":"b","9":"a","x":"c"}');
  });

  it('R8: numbers and strings are written as ECMAScript does (RFC 8785 §3.2.2)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 4.5, 100])).toBe('[1e+21,1e-7,0.1,0,4.5,100]');
    expect(canonicalJson('quote " backslash \\ tab \t nul \u0000 é €')).toBe('"quote \\" backslash \\\\ tab \\t nul \\u0000 é €"');
  });

  it('R8: arrays keep their order', () => {
    expect(canonicalJson(['b', 'a'])).not.toBe(canonicalJson(['a', 'b']));
  });

  it.each([
    ['undefined member', { a: undefined }, '$.a'],
    ['NaN', { n: Number.NaN }, '$.n'],
    ['Infinity in an array', { list: [1, Number.POSITIVE_INFINITY] }, '$.list[1]'],
    ['a Date', { when: new Date(0) }, '$.when'],
    ['a Buffer', { raw: Buffer.from('x') }, '$.raw'],
    ['a bigint', { big: 1n }, '$.big'],
    ['a lone surrogate', { text: 'a\ud800b' }, '$.text'],
  ])('R8: refuses %s instead of hashing something another reader would write differently', (_name, value, path) => {
    let caught: unknown;
    try {
      canonicalJson(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CanonicalJsonError);
    expect((caught as CanonicalJsonError).path).toBe(path);
    expect((caught as Error).message).toContain(path);
  });

  it('R8: refuses a cycle rather than recursing forever', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(CanonicalJsonError);
  });

  it('R8: an object without a prototype is a plain object', () => {
    const bare = Object.assign(Object.create(null) as object, { b: 1, a: 2 });
    expect(canonicalJson(bare)).toBe('{"a":2,"b":1}');
  });
});
