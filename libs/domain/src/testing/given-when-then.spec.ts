import { Decider, DomainEvent } from '../shared/decider';
import { DomainError, invalid, invalidState, PolicyViolationError } from '../shared/errors';
import { firstDifference, given, ScenarioFailed } from './given-when-then';

/** A tiny decider the helper can be tested against: a counter that refuses bad increments in several ways. */
type Incremented = DomainEvent<'Incremented', { by: number; note?: string }>;
type Reset = DomainEvent<'Reset', { to: number }>;
type Ev = Incremented | Reset;
type Cmd = { type: 'Increment'; by: number; note?: string } | { type: 'Reset' } | { type: 'Explode'; value: unknown } | { type: 'Refuse' };

const counter: Decider<Cmd, Ev, number> = {
  initialState: 0,
  decide: (c, s) => {
    switch (c.type) {
      case 'Increment':
        if (c.by <= 0) throw invalidState('counter.non-positive', 'increments must be positive', { by: c.by });
        if (s + c.by > 10) throw new RangeError('too big');
        return [{ type: 'Incremented', data: c.note === undefined ? { by: c.by } : { by: c.by, note: c.note } }];
      case 'Reset':
        return s === 0 ? [] : [{ type: 'Reset', data: { to: 0 } }];
      case 'Explode':
        throw c.value;
      case 'Refuse':
        throw new PolicyViolationError([{ rule: 'counter.rule', message: 'no' }]);
    }
  },
  evolve: (s, e) => (e.type === 'Incremented' ? s + e.data.by : e.data.to),
};
const inc = (by: number): Incremented => ({ type: 'Incremented', data: { by } });
const increment = (by: number): Cmd => ({ type: 'Increment', by });

/** Runs a scenario that must fail and returns its message, so the tests can check it is readable. */
function failureOf(scenario: () => unknown): string {
  try {
    scenario();
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioFailed);
    return (error as Error).message;
  }
  throw new Error('expected the scenario to fail, but it passed');
}

describe('given/when/then helper', () => {
  describe('then(events)', () => {
    it('passes when the decided events match, folding the history first, and returns them', () => {
      expect(given(counter, [inc(3)]).when(increment(2)).then([inc(2)])).toEqual([inc(2)]);
      // the history matters: 9 + 2 > 10 only if the history was folded
      expect(() => given(counter, [inc(9)]).when(increment(2)).then([inc(2)])).toThrow(ScenarioFailed);
    });

    it('ignores object key order, as a database round trip would', () => {
      expect(() => given(counter).when({ type: 'Increment', by: 2, note: 'n' }).then([{ data: { note: 'n', by: 2 }, type: 'Incremented' }])).not.toThrow();
    });

    it('fails on a different event payload, naming the first difference', () => {
      const message = failureOf(() => given(counter).when(increment(2)).then([inc(3)]));
      expect(message).toMatch(/given no events\nwhen \{"type":"Increment","by":2\}/);
      expect(message).toMatch(/expected events/);
      expect(message).toMatch(/first difference at \[0\]\.data\.by: expected 3, got 2/);
    });

    it('fails on a different event type', () => {
      expect(failureOf(() => given(counter, [inc(1)]).when({ type: 'Reset' }).then([{ type: 'Incremented', data: { to: 0 } } as never]))).toMatch(
        /at \[0\]\.type: expected "Incremented", got "Reset"/,
      );
    });

    it('fails on too many or too few events', () => {
      expect(failureOf(() => given(counter).when(increment(2)).then([]))).toMatch(/at \(root\): expected 0 item\(s\), got 1/);
      expect(failureOf(() => given(counter).when(increment(2)).then([inc(2), inc(2)]))).toMatch(/expected 2 item\(s\), got 1/);
    });

    it('fails when a key is missing, unexpected, or present as undefined', () => {
      expect(failureOf(() => given(counter).when({ type: 'Increment', by: 2, note: 'n' }).then([inc(2)]))).toMatch(/at \[0\]\.data\.note: unexpected key with value "n"/);
      expect(failureOf(() => given(counter).when(increment(2)).then([{ type: 'Incremented', data: { by: 2, note: 'n' } }]))).toMatch(/\.note: expected "n", but the key is missing/);
      expect(failureOf(() => given(counter).when(increment(2)).then([{ type: 'Incremented', data: { by: 2, note: undefined } }]))).toMatch(/\.note: expected undefined, but the key is missing/);
    });

    it('fails when events were expected but the decider threw, saying what it threw', () => {
      expect(failureOf(() => given(counter).when(increment(0)).then([inc(0)]))).toMatch(
        /but the decider threw DomainError invalid-state\/counter\.non-positive: increments must be positive/,
      );
      expect(failureOf(() => given(counter, [inc(9)]).when(increment(5)).then([inc(5)]))).toMatch(/but the decider threw RangeError: too big/);
    });

    it('reports a history that evolve cannot fold as a broken scenario, not as a decision', () => {
      const fragile: Decider<Cmd, Ev, number> = { ...counter, evolve: () => { throw new TypeError('bad event'); } };
      expect(failureOf(() => given(fragile, [inc(1)]).when(increment(1)).then([inc(1)]))).toMatch(/evolving the given events threw TypeError: bad event/);
      expect(failureOf(() => given(fragile, [inc(1)]).when(increment(-1)).thenThrows({ code: 'counter.non-positive' }))).toMatch(/the history itself is broken/);
    });
  });

  describe('thenNothing()', () => {
    it('passes when no events are decided', () => {
      expect(() => given(counter).when({ type: 'Reset' }).thenNothing()).not.toThrow();
    });
    it('fails when events are decided, or the decider throws', () => {
      expect(failureOf(() => given(counter, [inc(4)]).when({ type: 'Reset' }).thenNothing())).toMatch(/expected events \[\]\nbut got/);
      expect(failureOf(() => given(counter).when(increment(-1)).thenNothing())).toMatch(/but the decider threw DomainError/);
    });
    it('can be passed around without its object', () => {
      const { thenNothing } = given(counter).when({ type: 'Reset' });
      expect(() => thenNothing()).not.toThrow();
    });
  });

  describe('thenThrows(matcher)', () => {
    it('matches by error class, including subclasses, and returns the error typed', () => {
      const range: RangeError = given(counter, [inc(9)]).when(increment(5)).thenThrows(RangeError);
      expect(range.message).toBe('too big');
      expect(given(counter).when({ type: 'Refuse' }).thenThrows(DomainError)).toBeInstanceOf(PolicyViolationError);
      expect(given(counter).when({ type: 'Refuse' }).thenThrows(Error)).toBeInstanceOf(PolicyViolationError);
    });

    it('matches a DomainError by kind, code and message, any subset of them', () => {
      const error = given(counter).when(increment(-1)).thenThrows({ kind: 'invalid-state', code: 'counter.non-positive' });
      expect(error.details).toEqual({ by: -1 });
      given(counter).when(increment(-1)).thenThrows({ code: 'counter.non-positive' });
      given(counter).when(increment(-1)).thenThrows({ kind: 'invalid-state' });
      given(counter).when(increment(-1)).thenThrows({ message: /positive/ });
      given(counter).when(increment(-1)).thenThrows({ message: 'increments must be positive' });
      given(counter).when({ type: 'Refuse' }).thenThrows({ kind: 'policy', code: 'policy.violation' });
    });

    it('matches by predicate', () => {
      given(counter).when(increment(-1)).thenThrows((e) => e instanceof DomainError && /positive/.test(e.message));
      given(counter).when({ type: 'Explode', value: 'boom' }).thenThrows((e) => e === 'boom');
    });

    it('fails when nothing is thrown, showing what was decided instead', () => {
      const message = failureOf(() => given(counter).when(increment(1)).thenThrows(RangeError));
      expect(message).toMatch(/expected the decider to throw an instance of RangeError\nbut it decided \[/);
      expect(message).toMatch(/"by": 1/);
      expect(failureOf(() => given(counter).when({ type: 'Reset' }).thenThrows({ code: 'x' }))).toMatch(/but it decided \[\]/);
    });

    it('fails when the wrong class is thrown', () => {
      expect(failureOf(() => given(counter, [inc(9)]).when(increment(5)).thenThrows(TypeError))).toMatch(
        /expected the decider to throw an instance of TypeError\nbut it threw RangeError: too big\n\(it is not an instance of that class\)/,
      );
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows(PolicyViolationError))).toMatch(/not an instance/);
    });

    it('fails when the kind, code or message differs', () => {
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows({ code: 'other.code' }))).toMatch(
        /a DomainError with code "other\.code"\nbut it threw DomainError invalid-state\/counter\.non-positive: increments must be positive\n\(its code is counter\.non-positive\)/,
      );
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows({ kind: 'validation', code: 'counter.non-positive' }))).toMatch(/its kind is invalid-state/);
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows({ message: /negative/ }))).toMatch(/its message does not match/);
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows({ message: 'increments must be' }))).toMatch(/its message differs/);
    });

    it('fails when a DomainError pattern meets an error that is not a DomainError', () => {
      expect(failureOf(() => given(counter, [inc(9)]).when(increment(5)).thenThrows({ code: 'too-big' }))).toMatch(/it is not a DomainError/);
      expect(failureOf(() => given(counter).when({ type: 'Explode', value: { code: 'x' } }).thenThrows({ code: 'x' }))).toMatch(
        /but it threw a non-Error value \{"code":"x"\}/,
      );
    });

    it('fails when the predicate says no, returns a non-boolean, or throws', () => {
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows(() => false))).toMatch(/the predicate returned false/);
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows((() => 'yes') as never))).toMatch(/the predicate returned "yes"/);
      const throwing = () => {
        throw new Error('assertion inside');
      };
      expect(failureOf(() => given(counter).when(increment(-1)).thenThrows(throwing))).toMatch(/the predicate itself threw Error: assertion inside/);
    });

    it('notices a throw of undefined', () => {
      expect(given(counter).when({ type: 'Explode', value: undefined }).thenThrows((e) => e === undefined)).toBeUndefined();
      expect(failureOf(() => given(counter).when({ type: 'Explode', value: undefined }).then([]))).toMatch(/threw a non-Error value undefined/);
    });
  });

  describe('firstDifference', () => {
    it('is undefined for equal values and names the path otherwise', () => {
      expect(firstDifference({ a: [1, { b: 2 }], d: new Date(0) }, { d: new Date(0), a: [1, { b: 2 }] })).toBeUndefined();
      expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toBe('at .a[1].b: expected 2, got 3');
      expect(firstDifference({ a: [1] }, { a: { 0: 1 } })).toBe('at .a: expected [1], got {"0":1}');
      expect(firstDifference(null, {})).toBe('at (root): expected null, got {}');
      expect(firstDifference(new Date(0), new Date(1))).toMatch(/expected 1970-01-01T00:00:00.000Z, got 1970-01-01T00:00:00.001Z/);
      expect(firstDifference(NaN, NaN)).toBeUndefined();
    });
  });

  it('works for the errors the domain builds', () => {
    const validation: Decider<Cmd, Ev, number> = { ...counter, decide: () => { throw invalid('x.field', 'bad field', { field: 'x' }); } };
    expect(given(validation).when(increment(1)).thenThrows({ kind: 'validation', code: 'x.field' }).details).toEqual({ field: 'x' });
  });
});
