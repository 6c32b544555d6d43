export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Full-jitter exponential back-off (the AWS architecture blog's recommendation): before attempt n+1 wait a
 * uniformly random time in [0, min(max, base * 2^(n-1))), so many workers retrying after one outage spread out
 * instead of arriving together.
 */
export function backoffDelayMs(failedAttempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.floor(random() * ceiling);
}

export interface RetryObserver {
  (info: { attempt: number; delayMs: number; error: unknown }): void;
}

/**
 * Runs `call` up to `policy.maxAttempts` times while `isTransient` says the failure may go away by itself.
 * Shared by the cloud KMS adapters. Only for calls that are safe to repeat (describe, encrypt, decrypt, setting
 * the same primary version again): a retried Encrypt just yields another ciphertext. The last failure is
 * rethrown unchanged.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  call: () => Promise<T>,
  isTransient: (e: unknown) => boolean,
  onRetry: RetryObserver = () => undefined,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= policy.maxAttempts || !isTransient(e)) throw e;
      const delayMs = backoffDelayMs(attempt, policy);
      onRetry({ attempt, delayMs, error: e });
      await sleep(delayMs);
    }
  }
}
