export interface RateLimitSettings {
  /** Refusals recorded one by one per (source, status) in a burst, and per window when sustained. */
  perWindow: number;
  windowMs: number;
  /** Sources remembered at once; the least recently seen is forgotten first (its pending count is handed back). */
  maxSources: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { perWindow: 20, windowMs: 60_000, maxSources: 10_000 };

export interface SuppressedCount {
  source: string;
  status: 401 | 403;
  count: number;
  from: Date;
  to: Date;
}

interface Bucket {
  source: string;
  status: 401 | 403;
  tokens: number;
  refilledAt: number;
  suppressed: number;
  suppressedSince: number;
}

/**
 * A token bucket per (source, status), refilled continuously at `perWindow` per `windowMs`, in a bounded LRU.
 * A flood from one source costs one summary per window instead of one event per request; other sources keep
 * their own budget. Memory is bounded by `maxSources` whatever the number of distinct addresses.
 */
export class DeniedAttemptsRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: RateLimitSettings = DEFAULT_RATE_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  /**
   * True when the refusal may be recorded. Evicting a bucket with suppressed refusals returns them in
   * `evicted`, so the count is reported, not lost.
   */
  admit(source: string, status: 401 | 403): { admitted: boolean; evicted?: SuppressedCount } {
    const key = `${status} ${source}`;
    const now = this.now();
    let bucket = this.buckets.get(key);
    let evicted: SuppressedCount | undefined;
    if (bucket) {
      this.buckets.delete(key);
    } else {
      bucket = { source, status, tokens: this.settings.perWindow, refilledAt: now, suppressed: 0, suppressedSince: now };
      if (this.buckets.size >= this.settings.maxSources) evicted = this.evictOldest(now);
    }
    this.buckets.set(key, bucket);
    const rate = this.settings.perWindow / this.settings.windowMs;
    bucket.tokens = Math.min(this.settings.perWindow, bucket.tokens + (now - bucket.refilledAt) * rate);
    bucket.refilledAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { admitted: true, ...(evicted ? { evicted } : {}) };
    }
    if (bucket.suppressed === 0) bucket.suppressedSince = now;
    bucket.suppressed++;
    return { admitted: false, ...(evicted ? { evicted } : {}) };
  }

  /**
   * Hands back the suppressed counts whose window has ended (all of them with `force`, at shutdown), and forgets
   * buckets that are full again: they hold nothing a new bucket would not.
   */
  drainSuppressed(force = false): SuppressedCount[] {
    const now = this.now();
    const out: SuppressedCount[] = [];
    for (const [key, b] of this.buckets) {
      if (b.suppressed > 0 && (force || now - b.suppressedSince >= this.settings.windowMs)) {
        out.push({ source: b.source, status: b.status, count: b.suppressed, from: new Date(b.suppressedSince), to: new Date(now) });
        b.suppressed = 0;
      }
      const refilled = Math.min(this.settings.perWindow, b.tokens + ((now - b.refilledAt) * this.settings.perWindow) / this.settings.windowMs);
      if (b.suppressed === 0 && refilled >= this.settings.perWindow) this.buckets.delete(key);
    }
    return out;
  }

  private evictOldest(now: number): SuppressedCount | undefined {
    const [key, oldest] = this.buckets.entries().next().value as [string, Bucket];
    this.buckets.delete(key);
    return oldest.suppressed > 0 ? { source: oldest.source, status: oldest.status, count: oldest.suppressed, from: new Date(oldest.suppressedSince), to: new Date(now) } : undefined;
  }
}
