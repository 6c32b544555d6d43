import { Decider, DomainEvent } from '../shared/decider';
import { DomainError, invalidState } from '../shared/errors';
import { given, ScenarioFailed } from './given-when-then';

type Ev = DomainEvent<'Incremented', { by: number }>;
type Cmd = { type: 'Increment'; by: number };
const counter: Decider<Cmd, Ev, number> = {
  initialState: 0,
  decide: (c, s) => {
    if (c.by <= 0) throw invalidState('counter.non-positive', 'increments must be positive');
    if (s + c.by > 10) throw new RangeError('too big');
    return [{ type: 'Incremented', data: { by: c.by } }];
  },
  evolve: (s, e) => s + e.data.by,
};
const inc = (by: number): Ev => ({ type: 'Incremented', data: { by } });

describe('given/when/then helper', () => {
  it('passes when the decided events match, folding the history first', () => {
    expect(given(counter, [inc(3)]).when({ type: 'Increment', by: 2 }).then([inc(2)])).toEqual([inc(2)]);
  });

  it('fails on different events', () => {
    expect(() => void given(counter).when({ type: 'Increment', by: 2 }).then([inc(3)])).toThrow(ScenarioFailed);
    expect(() => void given(counter).when({ type: 'Increment', by: 2 }).thenNothing()).toThrow(/expected events \[\]/);
  });

  it('fails when events were expected but the decider threw', () => {
    expect(() => void given(counter).when({ type: 'Increment', by: 0 }).then([inc(0)])).toThrow(/the decider threw: DomainError: increments must be positive/);
  });

  it('matches thrown errors by class, by kind/code, and by predicate', () => {
    expect(given(counter, [inc(9)]).when({ type: 'Increment', by: 5 }).thenThrows(RangeError)).toBeInstanceOf(RangeError);
    expect(given(counter).when({ type: 'Increment', by: -1 }).thenThrows({ kind: 'invalid-state', code: 'counter.non-positive' })).toBeInstanceOf(DomainError);
    given(counter).when({ type: 'Increment', by: -1 }).thenThrows((e) => e instanceof DomainError && /positive/.test(e.message));
  });

  it('fails when nothing is thrown, or the wrong error is', () => {
    expect(() => void given(counter).when({ type: 'Increment', by: 1 }).thenThrows(RangeError)).toThrow(/expected the decider to throw/);
    expect(() => void given(counter).when({ type: 'Increment', by: -1 }).thenThrows({ code: 'other.code' })).toThrow(/but got invalid-state\/counter.non-positive/);
    expect(() => void given(counter, [inc(9)]).when({ type: 'Increment', by: 5 }).thenThrows(TypeError)).toThrow(ScenarioFailed);
    expect(() => void given(counter).when({ type: 'Increment', by: -1 }).thenThrows(() => false)).toThrow(ScenarioFailed);
  });
});
