/**
 * What the port's close() promises, in one place: calls in flight are counted, close() waits for them to finish,
 * then releases the adapter's resources exactly once, and afterwards `closed` is true (the adapter then refuses
 * every call with ProviderUnavailableError). close() is idempotent: every caller gets the same promise.
 */
export class InFlightCalls {
  private count = 0;
  private drained?: () => void;
  private closing?: Promise<void>;

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Counts `call` as in flight until it settles. */
  async track<T>(call: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await call();
    } finally {
      if (--this.count === 0 && this.drained) this.drained();
    }
  }

  close(release: () => void | Promise<void>): Promise<void> {
    this.closing ??= (async () => {
      if (this.count > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      await release();
    })();
    return this.closing;
  }
}
