/**
 * Wakes whoever waits for a tenant's view to change: a worker that proposed an L2 key waits here until the
 * registry in the view names the key registered for its version. Notified after every applied state and
 * revocation, so a revocation ends the wait at once.
 */
export class ViewChanges {
  private readonly waiters = new Map<string, Set<(changed: boolean) => void>>();
  private closed = false;

  notify(tenantId: string): void {
    const waiting = this.waiters.get(tenantId);
    if (!waiting) return;
    this.waiters.delete(tenantId);
    for (const wake of waiting) wake(true);
  }

  /**
   * Resolves true at the tenant's next view change, false after `timeoutMs` or once closed. Registers
   * synchronously, so a caller that checked the view in the same tick misses no change.
   */
  next(tenantId: string, timeoutMs: number): Promise<boolean> {
    if (this.closed || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let waiting = this.waiters.get(tenantId);
      if (!waiting) this.waiters.set(tenantId, (waiting = new Set()));
      const wake = (changed: boolean) => {
        clearTimeout(timer);
        resolve(changed);
      };
      const timer = setTimeout(() => {
        const set = this.waiters.get(tenantId);
        set?.delete(wake);
        if (set?.size === 0) this.waiters.delete(tenantId);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      waiting.add(wake);
    });
  }

  /** Ends every wait as timed out (the worker stops): keys proposed and not registered are zeroised at once. */
  close(): void {
    this.closed = true;
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiting of all) for (const wake of waiting) wake(false);
  }
}
