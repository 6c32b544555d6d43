import { ConfigError, loadConfig } from '../../config/config';
import { DEFAULT_RATE_LIMIT, DeniedAttemptsRateLimiter } from './denied-attempts.rate-limiter';

describe('denied-attempts rate limit from the environment (loadConfig)', () => {
  it('keeps the defaults when nothing is set', () => {
    expect(loadConfig({}).deniedAttempts).toEqual({ perWindow: 20, windowMs: 60_000, maxSources: 10_000 });
    expect(loadConfig({}).deniedAttempts).toEqual(DEFAULT_RATE_LIMIT);
  });

  it('reads each setting, and the limiter built from them follows them', () => {
    const settings = loadConfig({ CMK_DENIED_ATTEMPTS_PER_WINDOW: '3', CMK_DENIED_ATTEMPTS_WINDOW_MS: '5000', CMK_DENIED_ATTEMPTS_MAX_SOURCES: '100' }).deniedAttempts;
    expect(settings).toEqual({ perWindow: 3, windowMs: 5_000, maxSources: 100 });
    let now = 1_700_000_000_000;
    const limiter = new DeniedAttemptsRateLimiter(settings, () => now);
    expect(Array.from({ length: 5 }, () => limiter.admit('10.0.0.1', 401).admitted)).toEqual([true, true, true, false, false]);
    now += 5_000; // one configured window: the suppressed count is due, and the bucket is full again
    expect(limiter.drainSuppressed()).toEqual([{ source: '10.0.0.1', status: 401, count: 2, from: new Date(now - 5_000), to: new Date(now) }]);
    for (let i = 0; i < 150; i++) limiter.admit(`10.1.0.${i}`, 403);
    expect(limiter.size).toBe(100);
  });

  it.each([
    ['CMK_DENIED_ATTEMPTS_PER_WINDOW', '0', 'must be an integer between 1 and 10000 (got "0")'],
    ['CMK_DENIED_ATTEMPTS_PER_WINDOW', '2.5', 'must be an integer between 1 and 10000'],
    ['CMK_DENIED_ATTEMPTS_WINDOW_MS', '999', 'must be an integer between 1000 and 86400000'],
    ['CMK_DENIED_ATTEMPTS_WINDOW_MS', 'a minute', 'must be an integer between 1000 and 86400000'],
    ['CMK_DENIED_ATTEMPTS_MAX_SOURCES', '10', 'must be an integer between 100 and 1000000'],
    ['CMK_DENIED_ATTEMPTS_MAX_SOURCES', '-1', 'must be an integer between 100 and 1000000'],
  ])('refuses %s=%s naming it', (name, value, problem) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(name);
    expect((error as Error).message).toContain(`Invalid configuration: ${name} ${problem}`);
  });
});
