import type { DomainEvent } from '../shared/decider';

/**
 * Facts about enforcement in the regions, recorded by the mesh bridge (not decided by an aggregate: they report
 * what happened on the mesh). Revocation facts live in `enforcement-<tenantId>`, usage in `usage-<workerId>`.
 * Positions are the event store's global positions as decimal strings (JSON has no 64-bit integers).
 */

/** The governance events that cut access: they travel on the revocation lane. */
export const ENFORCEMENT_CAUSES = ['KeyLinkRevoked', 'KeyUnlinked', 'TenantSuspended', 'TenantOffboarded'] as const;
export type EnforcementCause = (typeof ENFORCEMENT_CAUSES)[number];

/** The bridge published a revocation on the mesh (the broker acknowledged it). */
export type RevocationDispatched = DomainEvent<
  'RevocationDispatched',
  {
    tenantId: string;
    /** Absent for tenant-wide causes (suspension, offboarding). */
    keyLinkId?: string;
    cause: EnforcementCause;
    /** Global position of the revoking event. */
    revocationPosition: string;
    /** Configured regions the tenant could be served in when it was revoked: the acks to expect. */
    regions: string[];
  }
>;

/** A worker confirmed that it denies since `enforcedAt`. */
export type RevocationEnforced = DomainEvent<
  'RevocationEnforced',
  {
    tenantId: string;
    keyLinkId?: string;
    cause: EnforcementCause;
    revocationPosition: string;
    workerId: string;
    region: string;
    enforcedAt: string;
  }
>;

export interface UsageReportCount {
  tenantId: string;
  systemId: string;
  operation: 'generate-data-key' | 'wrap' | 'unwrap';
  outcome: 'allowed' | 'denied';
  count: number;
}

/** Operation counts of one worker over [windowStart, windowEnd). */
export type UsageReported = DomainEvent<
  'UsageReported',
  { workerId: string; region: string; reportId: string; windowStart: string; windowEnd: string; counts: UsageReportCount[] }
>;

export type EnforcementEvent = RevocationDispatched | RevocationEnforced;
export const ENFORCEMENT_EVENT_TYPES: EnforcementEvent['type'][] = ['RevocationDispatched', 'RevocationEnforced'];
export const USAGE_EVENT_TYPES: UsageReported['type'][] = ['UsageReported'];
