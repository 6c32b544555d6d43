import { DeniedAttemptsRateLimiter } from './denied-attempts.rate-limiter';

describe('DeniedAttemptsRateLimiter (token bucket per source and status, bounded LRU)', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_700_000_000_000));

  it('admits a burst of perWindow per (source, status), then counts the rest for one summary per window', () => {
    const limiter = new DeniedAttemptsRateLimiter({ perWindow: 20, windowMs: 60_000, maxSources: 100 }, clock);
    const admitted = Array.from({ length: 50 }, () => limiter.admit('10.0.0.1', 401).admitted);
    expect(admitted.filter(Boolean)).toHaveLength(20);
    expect(admitted.slice(20).every((a) => !a)).toBe(true);
    // Another status and another source have their own budgets.
    expect(limiter.admit('10.0.0.1', 403).admitted).toBe(true);
    expect(limiter.admit('10.0.0.2', 401).admitted).toBe(true);

    expect(limiter.drainSuppressed()).toEqual([]); // the window has not ended yet
    now += 60_000;
    const [summary, ...rest] = limiter.drainSuppressed();
    expect(rest).toEqual([]);
    expect(summary).toEqual({ source: '10.0.0.1', status: 401, count: 30, from: new Date(now - 60_000), to: new Date(now) });
    expect(limiter.drainSuppressed(true)).toEqual([]); // counted once only
  });

  it('refills continuously: a sustained flood gets perWindow records per window, not a new burst', () => {
    const limiter = new DeniedAttemptsRateLimiter({ perWindow: 20, windowMs: 60_000, maxSources: 100 }, clock);
    for (let i = 0; i < 20; i++) limiter.admit('10.0.0.1', 403);
    let admitted = 0;
    for (let s = 0; s < 60; s++) {
      now += 1_000;
      for (let i = 0; i < 10; i++) if (limiter.admit('10.0.0.1', 403).admitted) admitted++;
    }
    expect(admitted).toBe(20);
    expect(limiter.drainSuppressed(true)[0].count).toBe(600 - 20);
  });

  it('forgets the least recently seen source first and hands back its suppressed count', () => {
    const limiter = new DeniedAttemptsRateLimiter({ perWindow: 1, windowMs: 60_000, maxSources: 3 }, clock);
    limiter.admit('a', 401);
    limiter.admit('a', 401); // suppressed
    limiter.admit('b', 401);
    limiter.admit('c', 401);
    expect(limiter.admit('d', 401).evicted).toEqual({ source: 'a', status: 401, count: 1, from: new Date(now), to: new Date(now) });
    expect(limiter.size).toBe(3);
    for (let i = 0; i < 10_000; i++) limiter.admit(`10.1.${i >> 8}.${i & 255}`, 401);
    expect(limiter.size).toBe(3);
  });

  it('drops buckets that are full again, so quiet sources cost no memory', () => {
    const limiter = new DeniedAttemptsRateLimiter({ perWindow: 5, windowMs: 60_000, maxSources: 100 }, clock);
    limiter.admit('a', 401);
    expect(limiter.size).toBe(1);
    now += 60_000;
    limiter.drainSuppressed();
    expect(limiter.size).toBe(0);
  });
});
