/** Thrown out of a retry loop when the bridge stops: the work is left for the next start (nothing was lost). */
export class BridgeStoppingError extends Error {
  constructor(what: string) {
    super(`stopped while ${what}`);
    this.name = 'BridgeStoppingError';
  }
}

export interface RetryOptions {
  /** What is being retried, for logs and errors. */
  what: string;
  signal: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onError?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `call` until it succeeds, backing off between attempts, or until `signal` aborts (then it throws
 * {@link BridgeStoppingError}). For work that must not be dropped: publishes the checkpoint waits for, and
 * appends of acks and usage the mesh would otherwise redeliver in a tight loop.
 */
export async function retryUntilDone<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal, initialDelayMs = 100, maxDelayMs = 2_000 } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw new BridgeStoppingError(options.what);
    try {
      return await call();
    } catch (error) {
      if (signal.aborted) throw new BridgeStoppingError(options.what);
      options.onError?.(error, attempt);
      await sleep(Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs), signal);
    }
  }
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
