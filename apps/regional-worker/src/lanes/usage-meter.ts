import { randomUUID } from 'node:crypto';
import type { UsageCount, UsageMessage } from '@cmk/orbital';

/**
 * Counts operations per tenant, system, operation and outcome over a window; `cut` closes the window into a
 * UsageMessage with a fresh reportId (a re-send of the same message keeps its id, so the bridge can dedupe).
 */
export class UsageMeter {
  private counts = new Map<string, UsageCount>();
  private windowStart: Date;

  constructor(
    private readonly workerId: string,
    private readonly region: string,
    private readonly wallNow: () => Date = () => new Date(),
  ) {
    this.windowStart = wallNow();
  }

  record(tenantId: string, systemId: string, operation: UsageCount['operation'], outcome: UsageCount['outcome']): void {
    const key = `${tenantId}\u0000${systemId}\u0000${operation}\u0000${outcome}`;
    const count = this.counts.get(key);
    if (count) count.count++;
    else this.counts.set(key, { tenantId, systemId, operation, outcome, count: 1 });
  }

  /** The window's report (undefined when nothing was counted); the next window starts now. */
  cut(): UsageMessage | undefined {
    const windowEnd = this.wallNow();
    const counts = [...this.counts.values()];
    const windowStart = this.windowStart;
    this.counts = new Map();
    this.windowStart = windowEnd;
    if (counts.length === 0) return undefined;
    return {
      kind: 'usage',
      workerId: this.workerId,
      region: this.region,
      reportId: `${this.workerId}/${randomUUID()}`,
      windowStart: windowStart.toISOString(),
      windowEnd: windowEnd.toISOString(),
      counts,
    };
  }
}
