import { backoffDelayMs, withRetries } from './retry';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 350 };

describe('bounded retries with full-jitter back-off (unit)', () => {
  it('draws each delay from [0, min(max, base * 2^(n-1)))', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, policy, () => 0.999999))).toEqual([99, 199, 349, 349]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });

  it('stops after maxAttempts on transient failures and rethrows the last one unchanged', async () => {
    const delays: number[] = [];
    const last = new Error('attempt 4');
    let calls = 0;
    const result = withRetries(
      policy,
      async () => {
        calls++;
        throw calls === 4 ? last : new Error(`attempt ${calls}`);
      },
      () => true,
      ({ delayMs }) => delays.push(delayMs),
      async () => undefined,
    );
    await expect(result).rejects.toBe(last);
    expect(calls).toBe(4);
    expect(delays).toHaveLength(3);
    delays.forEach((d, i) => expect(d).toBeLessThan(Math.min(350, 100 * 2 ** i)));
  });

  it('does not retry a failure that is not transient, and returns the first success', async () => {
    let calls = 0;
    const permanent = new Error('permanent');
    await expect(withRetries(policy, async () => { calls++; throw permanent; }, () => false, undefined, async () => undefined)).rejects.toBe(permanent);
    expect(calls).toBe(1);
    calls = 0;
    const value = await withRetries(policy, async () => (++calls < 3 ? Promise.reject(new Error('blip')) : 'ok'), () => true, undefined, async () => undefined);
    expect({ value, calls }).toEqual({ value: 'ok', calls: 3 });
  });
});
