import { inlineParameters } from './scoped-sql';

describe('inlineParameters', () => {
  it('renders every supported value as a literal', () => {
    expect(inlineParameters('SELECT $1, $2, $3, $4, $5, $6', ['a', 42, -7, 2n ** 63n - 1n, true, null])).toBe(
      "SELECT 'a', 42, (-7), 9223372036854775807, TRUE, NULL",
    );
    expect(inlineParameters('SELECT $1', [undefined])).toBe('SELECT NULL');
    expect(inlineParameters('SELECT $1::text[]', [['x', "y'z"]])).toBe("SELECT ARRAY['x', 'y''z']::text[]::text[]");
    expect(inlineParameters('SELECT $1', [new Date('2024-01-02T03:04:05.678Z')])).toBe("SELECT '2024-01-02T03:04:05.678Z'::timestamptz");
  });

  it('escapes quotes and backslashes so a value can never end its literal', () => {
    const hostile = "x'); DROP TABLE events; --\\";
    const sql = inlineParameters('SELECT $1', [hostile]);
    // pg's escapeLiteral: quotes doubled, backslashes doubled inside an E'' literal.
    expect(sql).toBe("SELECT  E'x''); DROP TABLE events; --\\\\'");
  });

  it('replaces $10 as the tenth parameter, not $1 followed by 0', () => {
    const params = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(inlineParameters('SELECT $1, $10', params)).toBe('SELECT 1, 10');
  });

  it('refuses missing parameters, non-finite numbers, NUL characters and invalid dates', () => {
    expect(() => inlineParameters('SELECT $2', ['a'])).toThrow(/missing SQL parameter \$2/);
    expect(() => inlineParameters('SELECT $1', [Number.NaN])).toThrow(/finite/);
    expect(() => inlineParameters('SELECT $1', ['a\u0000b'])).toThrow(/NUL/);
    expect(() => inlineParameters('SELECT $1', [new Date('nope')])).toThrow(/invalid Date/);
  });
});
