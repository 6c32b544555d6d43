import type { DomainEvent } from '../shared/decider';
import { Categories, streamName } from '../shared/stream-names';

/**
 * Requests a regional worker refused, reported by the worker per window and recorded by the mesh bridge: the
 * data-plane counterpart of AccessDenied. Allowed requests are not recorded one by one: the UsageReported
 * aggregates (per tenant, system, operation, per usage window of one minute by default) are their record.
 *
 * Tenant, system and subject come from a verified workload token only, so `tenantId` is the tenant that acted
 * (it indexes the event for the tenant's own audit queries). An authentication refusal has none of them: it is
 * the platform's record, in the day's stream without a tenant.
 */

/** The worker's local decision (Orbital's DENIAL_REASONS) or why it refused the token. */
export type WorkerDeniedReason =
  | 'not-ready'
  | 'stale-view'
  | 'unknown-tenant'
  | 'tenant-suspended'
  | 'tenant-offboarded'
  | 'region-not-allowed'
  | 'unknown-system'
  | 'key-link-not-active'
  | 'key-link-revoked'
  | 'missing-credentials'
  | 'malformed-authorization-header'
  | 'certificate-refused'
  | 'credentials-mismatch'
  | 'malformed'
  | 'unknown-issuer'
  | 'unsupported-algorithm'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'invalid-claims'
  | 'issuer-unavailable';

export type WorkerAccessDenied = DomainEvent<
  'WorkerAccessDenied',
  {
    at: string;
    tenantId?: string;
    systemId?: string;
    operation: 'generate-data-key' | 'wrap' | 'unwrap';
    keyLinkId?: string;
    reason: WorkerDeniedReason;
    /** The verified workload subject. */
    subject?: string;
    workerId: string;
    region: string;
    /** The worker's report this denial arrived in. */
    reportId: string;
  }
>;

/** Denials of one window beyond the worker's detail limit per (tenant, reason), counted per tenant, system and reason. */
export type WorkerAccessDeniedSuppressed = DomainEvent<
  'WorkerAccessDeniedSuppressed',
  {
    tenantId?: string;
    systemId?: string;
    reason: WorkerDeniedReason;
    count: number;
    window: { from: string; to: string };
    workerId: string;
    region: string;
    reportId: string;
  }
>;

export type WorkerAccessEvent = WorkerAccessDenied | WorkerAccessDeniedSuppressed;
export const WORKER_ACCESS_EVENT_TYPES: WorkerAccessEvent['type'][] = ['WorkerAccessDenied', 'WorkerAccessDeniedSuppressed'];

/**
 * `workerdenied-<yyyymmdd>-<tenantId>` per tenant and UTC day, `workerdenied-<yyyymmdd>` for refusals without a
 * verified tenant: a tenant's denials stay together, a flood stays in its day, and retention can drop whole days.
 */
export function workerDeniedStream(at: Date, tenantId?: string): string {
  const day = at.toISOString().slice(0, 10).replace(/-/g, '');
  return streamName(Categories.workerDenied, tenantId ? `${day}-${tenantId}` : day);
}
