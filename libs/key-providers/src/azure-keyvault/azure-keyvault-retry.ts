import { setTimeout as sleep } from 'node:timers/promises';
import { azureFailure, isTransient } from './azure-keyvault-errors';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  timeoutMs: number;
}

export interface RetryNotice {
  attempt: number;
  delayMs: number;
  /** Why: the status and service code, or the connection error code. */
  providerCode?: string;
  retryAfter: boolean;
}

/**
 * Runs `call` with a per-attempt timeout. Only `safe` calls (reads and the idempotent crypto operations) are
 * retried, and only on transient failures: at most `maxAttempts` attempts, waiting the service's Retry-After when
 * it sends one (up to `maxRetryAfterMs`; a longer one ends the retries), otherwise exponential back-off with
 * jitter (a random delay in [d/2, d], d = base * 2^n capped at maxDelayMs) so parallel callers spread out.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  safe: boolean,
  call: (signal: AbortSignal) => Promise<T>,
  onRetry: (notice: RetryNotice) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(AbortSignal.timeout(policy.timeoutMs));
    } catch (e) {
      if (!safe || attempt >= policy.maxAttempts || !isTransient(e)) throw e;
      const failure = azureFailure(e);
      let delayMs: number;
      if (failure.retryAfterMs !== undefined) {
        if (failure.retryAfterMs > policy.maxRetryAfterMs) throw e;
        delayMs = failure.retryAfterMs;
      } else {
        const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
        delayMs = ceiling / 2 + Math.random() * (ceiling / 2);
      }
      const providerCode = [failure.status, failure.code].filter((x) => x !== undefined).join(' ') || undefined;
      onRetry({ attempt, delayMs, providerCode, retryAfter: failure.retryAfterMs !== undefined });
      await sleep(delayMs);
    }
  }
}
