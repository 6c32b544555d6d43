import { unwrapRegionsOf } from './geofence';
import type { PolicyDocument } from './policy-document';

export interface PolicyVersionRef {
  policyId: string;
  version: number;
}

/** A tenant a region may serve, with the policy versions in force for it. */
export interface GovernedTenant {
  tenantId: string;
  jurisdiction: string;
  policies: readonly (PolicyVersionRef & { document: PolicyDocument })[];
}

/** What one worker last reported enforcing. */
export interface WorkerEnforcement {
  workerId: string;
  region: string;
  liveness: 'reporting' | 'silent' | 'stopped';
  ready: boolean;
  policies: readonly PolicyVersionRef[];
}

export interface WorkerDrift {
  workerId: string;
  region: string;
  liveness: WorkerEnforcement['liveness'];
  /** Reporting, ready, and enforcing exactly the versions in force for the tenants of its region. */
  inSync: boolean;
  /** In force for a tenant the region serves, but not reported by the worker (not yet received). */
  missing: PolicyVersionRef[];
  /** Reported by the worker, but no longer in force for any tenant its region serves (superseded). */
  outdated: PolicyVersionRef[];
}

const key = (p: PolicyVersionRef) => `${p.policyId}\u0000${p.version}`;
const byIdThenVersion = (a: PolicyVersionRef, b: PolicyVersionRef) => (a.policyId < b.policyId ? -1 : a.policyId > b.policyId ? 1 : a.version - b.version);

/** The policy versions a region must enforce: those in force for the tenants its geofence lets it serve. */
export function versionsExpectedIn(region: string, tenants: readonly GovernedTenant[]): PolicyVersionRef[] {
  const expected = new Map<string, PolicyVersionRef>();
  for (const tenant of tenants) {
    const regions = unwrapRegionsOf(tenant.policies.map((p) => p.document), tenant.jurisdiction);
    if (regions !== null && !regions.includes(region)) continue;
    for (const { policyId, version } of tenant.policies) expected.set(key({ policyId, version }), { policyId, version });
  }
  return [...expected.values()].sort(byIdThenVersion);
}

/**
 * Drift of each worker against what its region must enforce. A silent or stopped worker is never in sync (what it
 * enforces is unknown or nothing); its missing and outdated lists are from its last report.
 */
export function policyDrift(workers: readonly WorkerEnforcement[], tenants: readonly GovernedTenant[]): WorkerDrift[] {
  const expectedByRegion = new Map<string, PolicyVersionRef[]>();
  return workers.map((worker) => {
    let expected = expectedByRegion.get(worker.region);
    if (!expected) expectedByRegion.set(worker.region, (expected = versionsExpectedIn(worker.region, tenants)));
    const reported = new Set(worker.policies.map(key));
    const wanted = new Set(expected.map(key));
    const missing = expected.filter((p) => !reported.has(key(p)));
    const outdated = worker.policies.filter((p) => !wanted.has(key(p))).map(({ policyId, version }) => ({ policyId, version })).sort(byIdThenVersion);
    const inSync = worker.liveness === 'reporting' && worker.ready && missing.length === 0 && outdated.length === 0;
    return { workerId: worker.workerId, region: worker.region, liveness: worker.liveness, inSync, missing, outdated };
  });
}
