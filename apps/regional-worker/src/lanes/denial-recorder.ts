import { randomUUID } from 'node:crypto';
import type { AccessDenialReason, AccessDenialRecord, AccessDenialsMessage, AccessDenialSummary, AccessOperation } from '@cmk/orbital';

/** One refused request, as the request path knows it. Tenant, system and subject only from a verified identity. */
export interface DenialInput {
  operation: AccessOperation;
  reason: AccessDenialReason;
  tenantId?: string;
  systemId?: string;
  keyLinkId?: string;
  subject?: string;
}

export interface DenialRecorderOptions {
  workerId: string;
  region: string;
  /** Denials kept one by one per (tenant, reason) and window; the rest are only counted. 0: count all. */
  detailLimit: number;
  /** Records (denials plus summaries) per message: keeps each far below the broker's message size limit. */
  maxPerMessage?: number;
  wallNow?: () => Date;
}

/**
 * Collects a window's denials in memory for the access-decision lane: O(1) per denial and no I/O, so a flood of
 * refused requests never slows the request path. At most `detailLimit` denials per (tenant, reason) are kept as
 * records; beyond that they are counted per (tenant, system, reason), so a flood cannot fill the event store.
 * Memory per window is bounded by that limit times the tenants and reasons seen, plus one counter per (tenant,
 * system, reason); tenants and systems come from verified tokens only, so a caller cannot invent new ones.
 */
export class DenialRecorder {
  private details: AccessDenialRecord[] = [];
  private detailsPerKey = new Map<string, number>();
  private suppressed = new Map<string, AccessDenialSummary>();
  private windowStart: Date;
  private readonly wallNow: () => Date;
  private suppressedCount = 0;

  constructor(private readonly options: DenialRecorderOptions) {
    if (!Number.isInteger(options.detailLimit) || options.detailLimit < 0) throw new RangeError('detailLimit must be a non-negative integer');
    this.wallNow = options.wallNow ?? (() => new Date());
    this.windowStart = this.wallNow();
  }

  /** Denials counted only in summaries since the recorder started (for the worker's metrics). */
  get suppressedTotal(): number {
    return this.suppressedCount;
  }

  record(input: DenialInput): void {
    const { tenantId, systemId, reason } = input;
    const key = `${tenantId ?? ''}\u0000${reason}`;
    const kept = this.detailsPerKey.get(key) ?? 0;
    if (kept < this.options.detailLimit) {
      this.detailsPerKey.set(key, kept + 1);
      // Field by field: whatever else a caller's object carries (a token, a header) cannot slip into the record.
      const record: AccessDenialRecord = { at: this.wallNow().toISOString(), operation: input.operation, reason };
      if (tenantId) record.tenantId = tenantId;
      if (systemId) record.systemId = systemId;
      if (input.keyLinkId) record.keyLinkId = input.keyLinkId;
      if (input.subject) record.subject = input.subject;
      this.details.push(record);
      return;
    }
    this.suppressedCount++;
    const summaryKey = `${tenantId ?? ''}\u0000${systemId ?? ''}\u0000${reason}`;
    const summary = this.suppressed.get(summaryKey);
    if (summary) summary.count++;
    else this.suppressed.set(summaryKey, { ...(tenantId ? { tenantId } : {}), ...(systemId ? { systemId } : {}), reason, count: 1 });
  }

  /**
   * Closes the window: its denials as messages of at most `maxPerMessage` records each, every one with its own
   * reportId (a re-sent message keeps it, so the bridge records it once). Empty when nothing was denied.
   */
  cut(): AccessDenialsMessage[] {
    const windowEnd = this.wallNow();
    const windowStart = this.windowStart;
    const denials = this.details;
    const suppressed = [...this.suppressed.values()];
    this.details = [];
    this.detailsPerKey = new Map();
    this.suppressed = new Map();
    this.windowStart = windowEnd;
    if (denials.length === 0 && suppressed.length === 0) return [];
    const max = this.options.maxPerMessage ?? 500;
    const window = randomUUID();
    const messages: AccessDenialsMessage[] = [];
    const entries: Array<['d', AccessDenialRecord] | ['s', AccessDenialSummary]> = [
      ...denials.map((d) => ['d', d] as ['d', AccessDenialRecord]),
      ...suppressed.map((s) => ['s', s] as ['s', AccessDenialSummary]),
    ];
    for (let i = 0; i < entries.length; i += max) {
      const part = entries.slice(i, i + max);
      messages.push({
        kind: 'access-denials',
        workerId: this.options.workerId,
        region: this.options.region,
        reportId: `${this.options.workerId}/${window}/${messages.length}`,
        windowStart: windowStart.toISOString(),
        windowEnd: windowEnd.toISOString(),
        denials: part.filter((e): e is ['d', AccessDenialRecord] => e[0] === 'd').map((e) => e[1]),
        suppressed: part.filter((e): e is ['s', AccessDenialSummary] => e[0] === 's').map((e) => e[1]),
      });
    }
    return messages;
  }
}
