import { Decider, DomainEvent } from '../shared/decider';
import { DomainError } from '../shared/errors';

export type ErrorMatcher =
  | (new (...args: any[]) => Error) // eslint-disable-line @typescript-eslint/no-explicit-any
  | { kind?: DomainError['kind']; code?: string; message?: string | RegExp }
  | ((error: unknown) => boolean);

export class ScenarioFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailed';
  }
}

const show = (v: unknown) => JSON.stringify(v, null, 2);

function matches(error: unknown, matcher: ErrorMatcher): boolean {
  if (typeof matcher === 'function') {
    if (matcher.prototype instanceof Error || matcher === Error) return error instanceof (matcher as new () => Error);
    return (matcher as (e: unknown) => boolean)(error);
  }
  if (!(error instanceof DomainError)) return false;
  if (matcher.kind !== undefined && error.kind !== matcher.kind) return false;
  if (matcher.code !== undefined && error.code !== matcher.code) return false;
  if (matcher.message instanceof RegExp && !matcher.message.test(error.message)) return false;
  if (typeof matcher.message === 'string' && error.message !== matcher.message) return false;
  return true;
}

/**
 * given(decider, pastEvents).when(command).then(expectedEvents) | .thenThrows(matcher) | .thenNothing()
 * Fails with a readable ScenarioFailed (works under any test runner; no framework import).
 */
export function given<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, history: E[] = []) {
  return {
    when(command: C) {
      const run = (): { events?: E[]; error?: unknown } => {
        const state = history.reduce((s, e) => decider.evolve(s, e), decider.initialState);
        try {
          return { events: decider.decide(command, state) };
        } catch (error) {
          return { error };
        }
      };
      return {
        then(expected: E[]): E[] {
          const { events, error } = run();
          if (error) throw new ScenarioFailed(`expected events ${show(expected)}\nbut the decider threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
          if (show(events) !== show(expected)) throw new ScenarioFailed(`expected events ${show(expected)}\nbut got ${show(events)}`);
          return events!;
        },
        thenNothing(): void {
          this.then([]);
        },
        thenThrows(matcher: ErrorMatcher): unknown {
          const { events, error } = run();
          if (!error) throw new ScenarioFailed(`expected the decider to throw, but it decided ${show(events)}`);
          if (!matches(error, matcher)) {
            const got = error instanceof DomainError ? `${error.kind}/${error.code}: ${error.message}` : String(error);
            throw new ScenarioFailed(`expected an error matching ${typeof matcher === 'function' ? matcher.name || 'predicate' : show(matcher)}\nbut got ${got}`);
          }
          return error;
        },
      };
    },
  };
}
