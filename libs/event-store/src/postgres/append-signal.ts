/**
 * Wakes waiting subscriptions when events may have been appended. A generation counter instead of a plain
 * event: a subscriber notes the generation before it reads, and if an append lands between its (empty) read and
 * its wait, the wait returns at once instead of sleeping through a poll interval.
 */
export class AppendSignal {
  private current = 0;
  private waiters = new Set<() => void>();

  get generation(): number {
    return this.current;
  }

  notify(): void {
    this.current++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the first notify after `since`, after `timeoutMs`, or when `abort` fires, whichever is first. */
  wait(since: number, timeoutMs: number, abort: AbortSignal): Promise<void> {
    if (this.current !== since || abort.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      abort.addEventListener('abort', done);
      this.waiters.add(done);
    });
  }
}

/**
 * One signal per schema for the whole process, so that several adapter instances on the same event store (the
 * control plane and a bridge hosted in one process, say) wake each other without a database round trip.
 * Reference-counted so closed stores leave nothing behind.
 */
const signals = new Map<string, { signal: AppendSignal; users: number }>();

export function acquireAppendSignal(schema: string): AppendSignal {
  const entry = signals.get(schema) ?? { signal: new AppendSignal(), users: 0 };
  entry.users++;
  signals.set(schema, entry);
  return entry.signal;
}

export function releaseAppendSignal(schema: string): void {
  const entry = signals.get(schema);
  if (!entry) return;
  if (--entry.users === 0) signals.delete(schema);
}
