import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export interface WorkerGauges {
  /** Seconds since the last heartbeat (+Inf before the first). */
  stalenessSeconds(): number;
  ready(): boolean;
  servedTenants(): number;
  cachedL2Keys(): number;
  pendingAcks(): number;
}

/** One registry per worker, so several workers in one process (embedded mode) never share series. */
export function createWorkerMetrics(gauges: WorkerGauges, options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'cmk_worker_' });
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(read()); } });
  gauge('cmk_worker_view_staleness_seconds', 'Seconds since the last bridge heartbeat (+Inf before the first)', gauges.stalenessSeconds);
  gauge('cmk_worker_ready', '1 once caught up with the state topic', () => (gauges.ready() ? 1 : 0));
  gauge('cmk_worker_view_tenants', 'Tenants this region serves in the view', gauges.servedTenants);
  gauge('cmk_worker_l2_cached_keys', 'Unwrapped L2 keys held in memory', gauges.cachedL2Keys);
  gauge('cmk_worker_acks_pending', 'Revocation acks waiting for the mesh', gauges.pendingAcks);
  return {
    registry,
    decisions: new Counter({ name: 'cmk_worker_decisions_total', help: 'Access decisions by operation, outcome and reason', labelNames: ['operation', 'outcome', 'reason'], registers }),
    revocations: new Counter({ name: 'cmk_worker_revocations_applied_total', help: 'Revocations enforced, by cause', labelNames: ['cause'], registers }),
    acksPublished: new Counter({ name: 'cmk_worker_acks_published_total', help: 'Revocation acks the mesh acknowledged', registers }),
    usageReports: new Counter({ name: 'cmk_worker_usage_reports_published_total', help: 'Usage reports the mesh acknowledged', registers }),
    rejected: new Counter({ name: 'cmk_worker_messages_rejected_total', help: 'Orbital messages skipped because they could not be decoded', labelNames: ['topic'], registers }),
    requests: new Counter({ name: 'cmk_worker_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
