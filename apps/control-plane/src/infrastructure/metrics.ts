import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const METRICS = Symbol('METRICS');

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cmk_' });
  const httpRequests = new Counter({
    name: 'cmk_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'cmk_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const accessDenied = new Counter({
    name: 'cmk_access_denied_total',
    help: 'Refused requests (401 and 403) by status and reason, whether or not they were recorded in the audit',
    labelNames: ['status', 'reason'],
    registers: [registry],
  });
  const accessDeniedAudit = new Counter({
    name: 'cmk_access_denied_audit_total',
    help: 'Refused requests by audit outcome: recorded one by one, suppressed (counted in a summary) or dropped (queue full or store unavailable)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, accessDenied, accessDeniedAudit };
}
export type Metrics = ReturnType<typeof createMetrics>;
