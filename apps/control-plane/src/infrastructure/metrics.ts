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
  return { registry, httpRequests, httpDuration };
}
export type Metrics = ReturnType<typeof createMetrics>;
