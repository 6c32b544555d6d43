import type { TenantViewStore, WorkerStatusMessage } from '@cmk/orbital';

export interface StatusReporterOptions {
  workerId: string;
  region: string;
  store: TenantViewStore;
  intervalMs: number;
  /** Hands a report to the lane that publishes it (an Outbox keyed by worker id). */
  publish: (message: WorkerStatusMessage) => void;
  wallNow?: () => Date;
  /** How long a change waits for more changes before it is reported (a policy revision arrives as one view per tenant). */
  settleMs?: number;
}

/**
 * Tells the control plane which policy versions this worker enforces: every interval (so silence means something),
 * and shortly after the enforced set changes (so a policy change is confirmed from each region in about `settleMs`
 * plus the mesh's latency, not an interval later). Reports are state, not deltas: a lost one is replaced by the next.
 */
export class StatusReporter {
  private readonly startedAt: string;
  private readonly wallNow: () => Date;
  private timer?: NodeJS.Timeout;
  private settleTimer?: NodeJS.Timeout;
  private reported: { revision: number; ready: boolean } | undefined;
  private stopped = false;

  constructor(private readonly options: StatusReporterOptions) {
    this.wallNow = options.wallNow ?? (() => new Date());
    this.startedAt = this.wallNow().toISOString();
  }

  start(): void {
    this.report();
    this.timer = setInterval(() => this.report(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Called after every applied view: reports once the changes settle, if the enforced set (or readiness) moved. */
  onViewApplied(): void {
    if (this.stopped || this.settleTimer || !this.changed()) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      if (this.changed()) this.report();
    }, this.options.settleMs ?? 50);
    this.settleTimer.unref();
  }

  /** The last report: says the worker stops on purpose (not silent); nothing is sent after it. */
  stop(): void {
    if (this.stopped) return;
    clearInterval(this.timer);
    clearTimeout(this.settleTimer);
    this.report(true);
    this.stopped = true;
  }

  private changed(): boolean {
    const { store } = this.options;
    return !this.reported || this.reported.revision !== store.policySetRevision || this.reported.ready !== store.ready;
  }

  private report(stopping = false): void {
    if (this.stopped) return;
    const { store, workerId, region, intervalMs } = this.options;
    this.reported = { revision: store.policySetRevision, ready: store.ready };
    this.options.publish({
      kind: 'worker-status',
      workerId,
      region,
      startedAt: this.startedAt,
      sentAt: this.wallNow().toISOString(),
      intervalMs,
      ready: store.ready,
      ...(stopping ? { stopping: true } : {}),
      policies: store.enforcedPolicies(),
      servedTenants: store.servedTenants,
    });
  }
}
