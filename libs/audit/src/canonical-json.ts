/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte sequence a JSON value hashes and signs as.
 *
 * - Object members sorted by their names as UTF-16 code unit sequences (what `Array.prototype.sort` does with
 *   no comparator), no whitespace, array order kept.
 * - Numbers serialised as ECMAScript's Number.prototype.toString does (RFC 8785 section 3.2.2.3 adopts exactly
 *   that algorithm); -0 becomes 0.
 * - Strings escaped as JSON.stringify does (RFC 8785 section 3.2.2.2 is the same rule set); they must be
 *   well-formed UTF-16 (I-JSON, RFC 7493), so lone surrogates are refused.
 *
 * Values JSON.stringify would silently change or drop are refused with {@link CanonicalJsonError} instead: a hash
 * over something that does not round-trip through the event store could never be recomputed by a verifier.
 * `undefined` object members are left out (as JSON.stringify and every JSON store do); `undefined` anywhere else,
 * non-finite numbers, bigint, functions, symbols, cycles and non-plain objects (Map, Set, class instances) are
 * refused. Objects with a `toJSON` method (Date, Buffer) are serialised through it, as JSON.stringify does.
 */
export class CanonicalJsonError extends Error {
  constructor(
    message: string,
    /** JSON-pointer-like path of the offending value, `$` for the root. */
    readonly path: string,
  ) {
    super(`${message} at ${path}`);
    this.name = 'CanonicalJsonError';
  }
}

/** The canonical form as a string; hash or sign its UTF-8 encoding (see {@link canonicalBytes}). */
export function canonicalize(value: unknown): string {
  return quick(value, 0, undefined) ?? serialize(value, new Walk(), undefined);
}

/** The canonical form, UTF-8 encoded. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

/**
 * Canonical form of an object with one top-level member left out (the audit chain fields inside event metadata),
 * without copying the object.
 */
export function canonicalizeWithout(value: Record<string, unknown>, omitKey: string): string {
  return quick(value, 0, omitKey) ?? serialize(value, new Walk(), omitKey);
}

/** A JSON string literal for a well-formed string: JCS and JSON.stringify agree on the escaping. */
export function canonicalString(value: string): string {
  return stringLiteral(value, undefined);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Deeper than this, the quick walk hands over to the careful one (which also tells a cycle from deep nesting). */
const QUICK_DEPTH = 100;

/**
 * The same output as {@link serialize} without its bookkeeping (path, ancestors), for the common case: plain JSON
 * values. Returns undefined as soon as anything needs the careful walk (a value to refuse with its path, toJSON,
 * deep nesting that may be a cycle), which then starts over; verification canonicalises every event, so this is
 * its hot path. Member names are sorted in place (an insertion sort costs n - 1 comparisons on names already in
 * order, the common case, and allocates nothing) and written from a cache of their quoted forms: events repeat
 * the same few dozen names millions of times.
 */
function quick(value: unknown, depth: number, omitKey: string | undefined): string | undefined {
  switch (typeof value) {
    case 'string':
      return quickString(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth > QUICK_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item = quick(value[i], depth + 1, undefined);
          if (item === undefined) return undefined;
          out += i === 0 ? item : ',' + item;
        }
        return out + ']';
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== null && Object.getPrototypeOf(proto) !== null) return undefined;
      const record = value as Record<string, unknown>;
      const keys = sortNames(Object.keys(record));
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const member = record[key];
        if (member === undefined || key === omitKey) continue;
        const name = memberName(key);
        const text = name === undefined ? undefined : quick(member, depth + 1, undefined);
        if (text === undefined) return undefined;
        out += out.length === 1 ? name + text : ',' + name + text;
      }
      return out + '}';
    }
    default:
      return undefined;
  }
}

/** Longer than this, the built-in sort (O(n log n)) beats the insertion sort. */
const INSERTION_SORT_MAX = 24;

/**
 * Sorts in place by UTF-16 code units: the relational operators compare strings exactly as the default sort and
 * RFC 8785 section 3.2.3 do. Names of one object are distinct, so no tie needs a rule.
 */
function sortNames(keys: string[]): string[] {
  const n = keys.length;
  if (n > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < n; i++) {
    const key = keys[i];
    let j = i - 1;
    if (keys[j] < key) continue;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** `"name":` by member name, bounded so that a log of ever-new names cannot grow it without limit. */
const MEMBER_NAMES = new Map<string, string>();
const MEMBER_NAMES_MAX = 10_000;

function memberName(key: string): string | undefined {
  const cached = MEMBER_NAMES.get(key);
  if (cached !== undefined) return cached;
  const quoted = quickString(key);
  if (quoted === undefined) return undefined;
  const name = quoted + ':';
  if (MEMBER_NAMES.size < MEMBER_NAMES_MAX) MEMBER_NAMES.set(key, name);
  return name;
}

function quickString(value: string): string | undefined {
  if (!NEEDS_CARE.test(value)) return '"' + value + '"';
  return LONE_SURROGATE.test(value) ? undefined : JSON.stringify(value);
}

/** Where the walk is: kept as a stack of segments so the path string is only built for an error message. */
class Walk {
  readonly ancestors: object[] = [];
  readonly segments: (string | number)[] = [];
  path(): string {
    return this.segments.length === 0 ? '$' : '$/' + this.segments.join('/');
  }
  fail(message: string): never {
    throw new CanonicalJsonError(message, this.path());
  }
}

/** Anything JSON.stringify would escape, or a surrogate: only such strings need the careful path. */
const NEEDS_CARE = /["\\\u0000-\u001f\uD800-\uDFFF]/;

function stringLiteral(value: string, walk: Walk | undefined): string {
  // Verification canonicalises every string of every event; most need no escaping at all.
  if (!NEEDS_CARE.test(value)) return '"' + value + '"';
  if (LONE_SURROGATE.test(value)) {
    const message = 'string contains a lone surrogate (not I-JSON)';
    if (walk) walk.fail(message);
    throw new CanonicalJsonError(message, '$');
  }
  return JSON.stringify(value);
}

function serialize(value: unknown, walk: Walk, omitKey: string | undefined): string {
  switch (typeof value) {
    case 'string':
      return stringLiteral(value, walk);
    case 'number':
      if (!Number.isFinite(value)) walk.fail(`non-finite number ${value} has no JSON form`);
      // Number.prototype.toString is the ECMAScript serialisation RFC 8785 prescribes; it already turns -0 into "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : serializeObject(value, walk, omitKey);
    case 'undefined':
      return walk.fail('undefined has no JSON form');
    case 'bigint':
      return walk.fail('bigint has no JSON form (store it as a string)');
    default:
      return walk.fail(`${typeof value} has no JSON form`);
  }
}

function serializeObject(value: object, walk: Walk, omitKey: string | undefined): string {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const segments = walk.segments;
    const key = segments.length === 0 ? '' : String(segments[segments.length - 1]);
    return serialize(toJSON.call(value, key), walk, omitKey);
  }
  const ancestors = walk.ancestors;
  if (ancestors.includes(value)) walk.fail('cyclic structure');
  ancestors.push(value);
  const segments = walk.segments;
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      segments.push(i);
      out += serialize(value[i], walk, undefined);
      segments.pop();
    }
    out += ']';
  } else {
    // Plain means: prototype null or some realm's Object.prototype (objects from vm contexts, jest or
    // structuredClone carry another realm's), so compare by shape rather than identity.
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== null && Object.getPrototypeOf(proto) !== null) {
      const name = (proto as { constructor?: { name?: string } }).constructor?.name;
      walk.fail(`${name || 'exotic object'} is not a plain JSON object`);
    }
    // Default sort compares UTF-16 code units, exactly the order RFC 8785 section 3.2.3 asks for.
    const keys = Object.keys(value).sort();
    const record = value as Record<string, unknown>;
    out = '{';
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined || key === omitKey) continue;
      segments.push(key);
      if (!first) out += ',';
      first = false;
      out += stringLiteral(key, walk) + ':' + serialize(member, walk, undefined);
      segments.pop();
    }
    out += '}';
  }
  ancestors.pop();
  return out;
}
