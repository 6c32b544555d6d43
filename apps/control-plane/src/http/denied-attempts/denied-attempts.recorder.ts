import type { Counter } from 'prom-client';
import { type AccessEvent, deniedStream, SCHEMA_VERSION } from '@cmk/domain';
import type { EventStore, NewEvent } from '@cmk/event-store';
import type { DeniedAttempt } from './denied-attempt';
import { DEFAULT_RATE_LIMIT, DeniedAttemptsRateLimiter, RateLimitSettings, SuppressedCount } from './denied-attempts.rate-limiter';

export const DENIED_ATTEMPTS = Symbol('DENIED_ATTEMPTS');

export interface DeniedAttemptsSettings {
  rateLimit: RateLimitSettings;
  /** Events waiting for the store; beyond this, new ones are dropped (counted) rather than held in memory. */
  queueLimit: number;
  batchSize: number;
  /** How often ended suppression windows are turned into summaries. */
  summaryIntervalMs: number;
}

export const DEFAULT_DENIED_ATTEMPTS: DeniedAttemptsSettings = { rateLimit: DEFAULT_RATE_LIMIT, queueLimit: 1_000, batchSize: 100, summaryIntervalMs: 10_000 };

export interface DeniedAttemptsMetrics {
  accessDenied: Pick<Counter<'status' | 'reason'>, 'inc'>;
  accessDeniedAudit: Pick<Counter<'outcome'>, 'inc'>;
}

export interface DeniedAttemptsLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Records refused requests in the audit (`denied-<yyyymmdd>`), off the request path: `record` only queues, a
 * single drain loop appends. A refused request is never slowed or failed by its audit record; a full queue or a
 * store outage drops events and counts them (cmk_access_denied_audit_total{outcome="dropped"}), never throws.
 */
export class DeniedAttemptsRecorder {
  private readonly limiter: DeniedAttemptsRateLimiter;
  private readonly queue: { stream: string; event: NewEvent }[] = [];
  private draining?: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: EventStore,
    private readonly metrics: DeniedAttemptsMetrics,
    private readonly logger: DeniedAttemptsLogger,
    private readonly settings: DeniedAttemptsSettings = DEFAULT_DENIED_ATTEMPTS,
    private readonly now: () => number = Date.now,
  ) {
    this.limiter = new DeniedAttemptsRateLimiter(settings.rateLimit, now);
    this.timer = setInterval(() => this.summarise(false), settings.summaryIntervalMs);
    this.timer.unref();
  }

  /** Synchronous and infallible: callers are answering a refused request and must not wait or fail here. */
  record(attempt: DeniedAttempt): void {
    try {
      this.metrics.accessDenied.inc({ status: String(attempt.status), reason: attempt.reason });
      const { admitted, evicted } = this.limiter.admit(attempt.source, attempt.status);
      if (evicted) this.enqueue(summary(evicted), evicted.to);
      if (!admitted) {
        this.metrics.accessDeniedAudit.inc({ outcome: 'suppressed' });
        return;
      }
      this.enqueue({ type: 'AccessDenied', data: attempt }, new Date(attempt.at), attempt.correlationId, attempt);
    } catch (error) {
      this.metrics.accessDeniedAudit.inc({ outcome: 'dropped' });
      this.logger.warn({ error: (error as Error)?.name }, 'a refused request could not be queued for the audit');
    }
  }

  /** Writes summaries of ended windows (all with `force`) and waits until the queue is empty. For tests and shutdown. */
  async flush(force = true): Promise<void> {
    this.summarise(force);
    while (this.draining) await this.draining;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }

  /** Nest calls this on app.close(), before the infrastructure (and the store) is closed. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  private summarise(force: boolean): void {
    for (const s of this.limiter.drainSuppressed(force)) this.enqueue(summary(s), s.to);
  }

  private enqueue(event: AccessEvent, at: Date, correlationId?: string, attempt?: DeniedAttempt): void {
    if (this.queue.length >= this.settings.queueLimit) {
      this.metrics.accessDeniedAudit.inc({ outcome: 'dropped' });
      return;
    }
    const actor = attempt && attempt.status === 403 ? { subject: attempt.subject, roles: attempt.roles } : undefined;
    this.queue.push({
      stream: deniedStream(at),
      event: { type: event.type, data: event.data, metadata: { ...(actor ? { actor } : {}), ...(correlationId ? { correlationId } : {}), occurredAt: at.toISOString(), schemaVersion: SCHEMA_VERSION } },
    });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.settings.batchSize);
      for (const [stream, events] of byStream(batch)) {
        try {
          // `any`: refusals are independent facts from many requests and instances at once; there is no state to
          // protect, and a conflict retried under a flood would multiply the store's load exactly when it hurts.
          await this.store.append(stream, events, { expectedRevision: 'any' });
          this.metrics.accessDeniedAudit.inc({ outcome: 'recorded' }, events.filter((e) => e.type === 'AccessDenied').length);
        } catch (error) {
          this.metrics.accessDeniedAudit.inc({ outcome: 'dropped' }, events.length);
          this.logger.warn({ error: (error as Error)?.name, stream, dropped: events.length }, 'refused requests could not be recorded in the audit');
        }
      }
    }
  }
}

function summary(s: SuppressedCount): AccessEvent {
  return { type: 'AccessDeniedSuppressed', data: { source: s.source, status: s.status, count: s.count, window: { from: s.from.toISOString(), to: s.to.toISOString() } } };
}

/** A batch spans two streams only around midnight UTC. */
function byStream(batch: { stream: string; event: NewEvent }[]): Map<string, NewEvent[]> {
  const groups = new Map<string, NewEvent[]>();
  for (const { stream, event } of batch) groups.set(stream, [...(groups.get(stream) ?? []), event]);
  return groups;
}
