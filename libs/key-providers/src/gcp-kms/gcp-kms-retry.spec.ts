import { backoffDelayMs, withRetries } from './gcp-kms-retry';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 };

describe('Cloud KMS retries', () => {
  it('draws full-jitter delays under a doubling ceiling capped at the maximum', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, policy, () => 0.999))).toEqual([99, 199, 249, 249]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });

  it('retries transient failures up to maxAttempts, sleeping between attempts, then rethrows the last one', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const error = await withRetries(policy, async () => Promise.reject(new Error(`attempt ${++calls}`)), () => true, undefined, async (ms) => void sleeps.push(ms)).catch((e: Error) => e);
    expect((error as Error).message).toBe('attempt 4');
    expect(sleeps).toHaveLength(3);
  });

  it('does not retry a final failure, and returns the first success', async () => {
    let calls = 0;
    await expect(withRetries(policy, async () => Promise.reject(new Error(`final ${++calls}`)), () => false, undefined, async () => undefined)).rejects.toThrow('final 1');
    calls = 0;
    expect(await withRetries(policy, async () => (++calls < 3 ? Promise.reject(new Error('x')) : 'ok'), () => true, undefined, async () => undefined)).toBe('ok');
    expect(calls).toBe(3);
  });
});
