import { backoffDelay, DEFAULT_BACKOFF, validateBackoff } from './backoff';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 };

  it('grows exponentially from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(policy, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(policy, 10_000)).toBe(1000);
  });

  it('jitter takes up to its fraction off the delay', () => {
    const half = { ...policy, jitter: 0.5 };
    expect(backoffDelay(half, 3, () => 0)).toBe(400);
    expect(backoffDelay(half, 3, () => 0.999999)).toBe(200);
    expect(backoffDelay({ ...policy, jitter: 1 }, 3, () => 0.5)).toBe(200);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(half, 3)));
    expect(spread.size).toBeGreaterThan(10);
    spread.forEach((d) => expect(d).toBeGreaterThanOrEqual(200));
  });

  it('validates policies', () => {
    expect(validateBackoff(DEFAULT_BACKOFF)).toBeNull();
    expect(validateBackoff({ ...policy, maxMs: 50 })).toMatch(/maxMs/);
    expect(validateBackoff({ ...policy, jitter: 1.5 })).toMatch(/jitter/);
    expect(validateBackoff({ ...policy, multiplier: 0.5 })).toMatch(/multiplier/);
    expect(validateBackoff({ ...policy, initialMs: -1 })).toMatch(/initialMs/);
  });
});
