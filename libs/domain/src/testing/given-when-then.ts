import { Decider, DomainEvent } from '../shared/decider';
import { DomainError, DomainErrorKind } from '../shared/errors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ErrorClass<T extends Error = Error> = abstract new (...args: any[]) => T;

/** A partial DomainError: every field given must match (`message` exactly, or by RegExp). */
export interface DomainErrorPattern {
  kind?: DomainErrorKind;
  code?: string;
  message?: string | RegExp;
}

/** What `thenThrows` accepts: an error class (subclasses match), a DomainError pattern, or a predicate that returns true. */
export type ErrorMatcher = ErrorClass | DomainErrorPattern | ((error: unknown) => boolean);

/** Thrown when a scenario does not hold. Plain Error: works under jest's `expect(...).toThrow()` and any other runner. */
export class ScenarioFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailed';
  }
}

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v, null, 2));
const showInline = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

const describeError = (error: unknown): string =>
  error instanceof DomainError
    ? `DomainError ${error.kind}/${error.code}: ${error.message}`
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : `a non-Error value ${showInline(error)}`;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * The first place where `actual` differs from `expected`, or undefined when they are equal. Object key order does
 * not matter; a key present with `undefined` differs from a missing key (events are facts: say what you mean).
 */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | undefined {
  const at = path || '(root)';
  if (Object.is(expected, actual)) return undefined;
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) return `at ${at}: expected ${showInline(expected)}, got ${showInline(actual)}`;
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
      const d = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    if (expected.length !== actual.length) return `at ${at}: expected ${expected.length} item(s), got ${actual.length}`;
    return undefined;
  }
  if (expected instanceof Date && actual instanceof Date)
    return expected.getTime() === actual.getTime() ? undefined : `at ${at}: expected ${expected.toISOString()}, got ${actual.toISOString()}`;
  if (isPlainObject(expected) && isPlainObject(actual)) {
    for (const key of Object.keys(expected)) {
      if (!Object.prototype.hasOwnProperty.call(actual, key)) return `at ${path}.${key}: expected ${showInline(expected[key])}, but the key is missing`;
      const d = firstDifference(expected[key], actual[key], `${path}.${key}`);
      if (d) return d;
    }
    for (const key of Object.keys(actual))
      if (!Object.prototype.hasOwnProperty.call(expected, key)) return `at ${path}.${key}: unexpected key with value ${showInline(actual[key])}`;
    return undefined;
  }
  return `at ${at}: expected ${showInline(expected)}, got ${showInline(actual)}`;
}

const isErrorClass = (m: unknown): m is ErrorClass =>
  typeof m === 'function' && m.prototype !== undefined && (m === Error || m.prototype instanceof Error);

function describeMatcher(matcher: ErrorMatcher): string {
  if (isErrorClass(matcher)) return `an instance of ${matcher.name}`;
  if (typeof matcher === 'function') return `the predicate ${matcher.name || matcher.toString()}`;
  const parts = Object.entries(matcher).map(([k, v]) => `${k} ${v instanceof RegExp ? String(v) : showInline(v)}`);
  return `a DomainError with ${parts.join(', ') || 'any kind and code'}`;
}

/** Returns a reason the error does not match, or undefined when it does. */
function mismatch(error: unknown, matcher: ErrorMatcher): string | undefined {
  if (isErrorClass(matcher)) return error instanceof matcher ? undefined : 'it is not an instance of that class';
  if (typeof matcher === 'function') {
    let verdict: unknown;
    try {
      verdict = matcher(error);
    } catch (thrown) {
      return `the predicate itself threw ${describeError(thrown)}`;
    }
    return verdict === true ? undefined : `the predicate returned ${showInline(verdict)}`;
  }
  if (!(error instanceof DomainError)) return 'it is not a DomainError';
  if (matcher.kind !== undefined && error.kind !== matcher.kind) return `its kind is ${error.kind}`;
  if (matcher.code !== undefined && error.code !== matcher.code) return `its code is ${error.code}`;
  if (matcher.message instanceof RegExp && !matcher.message.test(error.message)) return 'its message does not match';
  if (typeof matcher.message === 'string' && error.message !== matcher.message) return 'its message differs';
  return undefined;
}

type Outcome<E> = { threw: false; events: E[] } | { threw: true; error: unknown };

/**
 * Given/when/then for deciders:
 *
 *   given(decider, pastEvents).when(command).then(expectedEvents)
 *   given(decider, pastEvents).when(command).thenNothing()             // same as then([])
 *   given(decider, pastEvents).when(command).thenThrows(matcher)       // class, { kind?, code?, message? }, or predicate
 *
 * The past events are folded with `evolve`, then `decide` runs once per assertion. A scenario that does not hold
 * throws a ScenarioFailed naming the history, the command, what was expected and the first difference. No test
 * framework is imported, so it works with plain jest (`it(..., () => given(...)...)`) or any other runner.
 */
export function given<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, history: E[] = []) {
  return {
    when(command: C) {
      const scenario = () =>
        `given ${history.length === 0 ? 'no events' : `${history.length} event(s) [${history.map((e) => e.type).join(', ')}]`}\n` +
        `when ${showInline(command)}\n`;

      const fail = (message: string): never => {
        throw new ScenarioFailed(`${scenario()}${message}`);
      };

      const run = (): Outcome<E> => {
        let state: S;
        try {
          state = history.reduce((s, e) => decider.evolve(s, e), decider.initialState);
        } catch (error) {
          return fail(`evolving the given events threw ${describeError(error)}; the history itself is broken`);
        }
        try {
          return { threw: false, events: decider.decide(command, state) };
        } catch (error) {
          return { threw: true, error };
        }
      };

      const then = (expected: E[]): E[] => {
        const outcome = run();
        if (outcome.threw) return fail(`expected events ${show(expected)}\nbut the decider threw ${describeError(outcome.error)}`);
        const difference = firstDifference(expected, outcome.events);
        if (difference) return fail(`expected events ${show(expected)}\nbut got ${show(outcome.events)}\nfirst difference ${difference}`);
        return outcome.events;
      };

      function thenThrows(matcher: (error: unknown) => boolean): unknown;
      function thenThrows<T extends Error>(matcher: ErrorClass<T>): T;
      function thenThrows(matcher: DomainErrorPattern): DomainError;
      function thenThrows(matcher: ErrorMatcher): unknown {
        const outcome = run();
        if (!outcome.threw) return fail(`expected the decider to throw ${describeMatcher(matcher)}\nbut it decided ${show(outcome.events)}`);
        const reason = mismatch(outcome.error, matcher);
        if (reason) return fail(`expected the decider to throw ${describeMatcher(matcher)}\nbut it threw ${describeError(outcome.error)}\n(${reason})`);
        return outcome.error;
      }

      return {
        /** The decider must decide exactly these events (deep equality, key order ignored). Returns them. */
        then,
        /** The decider must decide no events: an idempotent no-op. */
        thenNothing: (): void => void then([]),
        /** The decider must throw an error the matcher accepts. Returns the error for further checks. */
        thenThrows,
      };
    },
  };
}
