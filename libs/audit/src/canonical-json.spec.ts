import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { canonicalBytes, canonicalize, canonicalizeWithout, CanonicalJsonError } from './canonical-json';

/** IEEE 754 double from its 16 hex digits, as RFC 8785 Appendix B lists them. */
const double = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('canonicalize (RFC 8785)', () => {
  it('section 3.2.2 example: numbers, string escaping and literals', () => {
    // The RFC's input text, parsed as JSON (its 333333333.33333329 and 1E30 are number literals).
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    const expected = '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalize(input)).toBe(expected);
    // Section 3.2.4: the UTF-8 bytes.
    expect(canonicalBytes(input).toString('hex')).toBe(
      [
        '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72',
        '75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a',
        '5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31',
        '65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37',
        '5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30',
        '30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d',
      ]
        .join(' ')
        .replace(/ /g, ''),
    );
  });

  it('section 3.2.3 "unicode sort" example: member names ordered by UTF-16 code units', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",' +
        ' "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign",' +
        '"\u{1f600}":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('orders by UTF-16 code units, not code points: U+1F600 (D83D..) sorts before U+FB33', () => {
    expect(canonicalize({ '\ufb33': 1, '\u{1f600}': 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
  });

  // RFC 8785 Appendix B: IEEE 754 bit patterns and their required serialisation.
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'], // minus zero
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('Appendix B number %s serialises as %s', (bits, text) => {
    expect(canonicalize(double(bits))).toBe(text);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
    ['fff0000000000000', '-Infinity'],
  ])('Appendix B: %s (%s) is an error', (bits) => {
    expect(() => canonicalize({ n: [double(bits)] })).toThrow(new CanonicalJsonError(`non-finite number ${double(bits)} has no JSON form`, '$/n/0'));
  });

  it('escapes control characters as RFC 8785 section 3.2.2.2 says and leaves the rest as is', () => {
    expect(canonicalize('\b\t\n\f\r\u0000\u001f"\\/\u007f\u2028é')).toBe('"\\b\\t\\n\\f\\r\\u0000\\u001f\\"\\\\/\u007f\u2028é"');
  });

  it('writes no whitespace and keeps array order, recursively', () => {
    expect(canonicalize({ b: [3, { z: 1, a: [] }, 'x'], a: {} })).toBe('{"a":{},"b":[3,{"a":[],"z":1},"x"]}');
    expect(canonicalize([])).toBe('[]');
    expect(canonicalize(null)).toBe('null');
  });

  it('leaves out undefined members (as JSON.stringify and every JSON store do)', () => {
    expect(canonicalize({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('serialises objects with toJSON through it, as the store would see them', () => {
    expect(canonicalize({ at: new Date('2024-01-02T03:04:05.000Z') })).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
  });

  it('agrees with JSON.stringify on the values both accept, apart from member order', () => {
    const value = { s: 'a\u0001"', n: [0, -0, 1.5, 1e21, 1e-7], nested: { t: true, f: false, z: null } };
    expect(JSON.parse(canonicalize(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it.each<[string, unknown, string]>([
    ['undefined in an array', [1, undefined], 'undefined has no JSON form at $/1'],
    ['undefined at the root', undefined, 'undefined has no JSON form at $'],
    ['bigint', { p: 1n }, 'bigint has no JSON form (store it as a string) at $/p'],
    ['a function', { f: () => 1 }, 'function has no JSON form at $/f'],
    ['a symbol', [Symbol('s')], 'symbol has no JSON form at $/0'],
    ['a Map', { m: new Map() }, 'Map is not a plain JSON object at $/m'],
    ['a Set', new Set([1]), 'Set is not a plain JSON object at $'],
    ['a class instance', { c: new (class Thing {})() }, 'Thing is not a plain JSON object at $/c'],
    ['a lone high surrogate', { s: 'a\ud800' }, 'string contains a lone surrogate (not I-JSON) at $/s'],
    ['a lone low surrogate in a name', { '\udc00': 1 }, 'string contains a lone surrogate (not I-JSON) at $/\udc00'],
  ])('refuses %s with a clear error', (_, value, message) => {
    expect(() => canonicalize(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalize(value)).toThrow(message);
  });

  it('gives the same text on the quick path and on the careful one (taken beyond 100 levels of nesting), for any JSON value', () => {
    const reference = (v: unknown): string =>
      v === null || typeof v !== 'object'
        ? JSON.stringify(v)
        : Array.isArray(v)
          ? `[${v.map(reference).join(',')}]`
          : `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${reference((v as Record<string, unknown>)[k])}`).join(',')}}`;
    const deep = (v: unknown): unknown => Array.from({ length: 102 }).reduce<unknown>((inner) => [inner], v);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalize(value);
        expect(text).toBe(reference(value));
        expect(canonicalize(deep(value))).toBe('['.repeat(102) + text + ']'.repeat(102));
      }),
      { numRuns: 300 },
    );
  });

  describe('the quick path (sorted in place, cached member names) against a plain reference', () => {
    // JSON.stringify for leaves, Array.prototype.sort for member order: RFC 8785 for well-formed values, written
    // the obvious way. Names and strings come from all of UTF-16 (lone surrogates included, which both refuse).
    const reference = (v: unknown): string => {
      if (typeof v === 'string' && /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v)) throw new CanonicalJsonError('lone surrogate', '$');
      if (v === null || typeof v !== 'object') return JSON.stringify(v);
      if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
      const keys = Object.keys(v).sort();
      return `{${keys.map((k) => `${reference(k)}:${reference((v as Record<string, unknown>)[k])}`).join(',')}}`;
    };
    const same = (value: unknown) => {
      let expected: string | Error;
      try {
        expected = reference(value);
      } catch (e) {
        expected = e as Error;
      }
      if (expected instanceof Error) {
        expect(() => canonicalize(value)).toThrow(CanonicalJsonError);
      } else {
        expect(canonicalize(value)).toBe(expected);
        // Again, now with every member name cached.
        expect(canonicalize(value)).toBe(expected);
      }
    };
    const name = fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('a', 'b', 'aa', 'B', '1', '10', '9', '__proto__', 'toString', 'é', '\u{1f600}', '\ufb33'));
    const leaf = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('wide')),
      array: fc.array(tie('value'), { maxLength: 5 }),
      object: fc.dictionary(name, tie('value'), { maxKeys: 8 }),
      // More members than the insertion sort takes: the built-in sort's branch.
      wide: fc.dictionary(fc.string({ unit: 'grapheme-ascii', maxLength: 4 }), leaf, { minKeys: 25, maxKeys: 40 }),
    }));

    it('equals the reference on random JSON values of all of UTF-16, narrow and wide objects', () => {
      fc.assert(fc.property(json.value, same), { numRuns: 500 });
    });

    it('equals the reference whatever order the members were inserted in (sorted, reversed, shuffled)', () => {
      fc.assert(
        fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 30 }), fc.func(fc.integer()), (names, rank) => {
          const sorted = [...names].sort();
          for (const order of [sorted, [...sorted].reverse(), [...names].sort((a, b) => rank(a) - rank(b))]) {
            const value: Record<string, unknown> = {};
            for (const [i, n] of order.entries()) Object.defineProperty(value, n, { value: i, enumerable: true, writable: true, configurable: true });
            same(value);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('stays right once the member-name cache is full (more distinct names than it keeps)', () => {
      for (let batch = 0; batch < 12; batch++) {
        const value = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${batch}-${i}`, i]));
        same(value);
      }
      same({ 'k0-1': 'cached', fresh: 'not cached', '\u0007': 'escaped name' });
    });
  });

  it('refuses cycles but accepts the same object twice', () => {
    const shared = { x: 1 };
    expect(canonicalize({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalize(cyclic)).toThrow('cyclic structure at $/self');
  });

  it('canonicalizeWithout drops exactly one top-level member', () => {
    const metadata = { audit: { hash: 'x' }, actor: { audit: 1 }, commandId: 'c' };
    expect(canonicalizeWithout(metadata, 'audit')).toBe('{"actor":{"audit":1},"commandId":"c"}');
  });

  it('hashes stably (a fixed vector, so any change to the scheme shows)', () => {
    const digest = createHash('sha256').update(canonicalBytes({ b: 1, a: 'x', c: [true, 2] })).digest('hex');
    expect(canonicalize({ b: 1, a: 'x', c: [true, 2] })).toBe('{"a":"x","b":1,"c":[true,2]}');
    expect(digest).toBe(createHash('sha256').update('{"a":"x","b":1,"c":[true,2]}').digest('hex'));
  });
});

describe('canonicalize across realms', () => {
  it('accepts plain objects and arrays made in another realm (vm contexts, structuredClone under jest)', () => {
    expect(canonicalize(runInNewContext('({ b: [1, { d: null }], a: "x" })'))).toBe('{"a":"x","b":[1,{"d":null}]}');
    expect(canonicalize(Object.assign(Object.create(null), { z: 1, y: 2 }))).toBe('{"y":2,"z":1}');
  });
});
