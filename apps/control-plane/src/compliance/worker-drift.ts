import { policyDrift, type GovernedTenant, type PolicyDocument } from '@cmk/policy';
import type { ReadModelQueries } from '@cmk/read-models';

export interface WorkerDriftReport {
  reported: true;
  workers: number;
  inSync: number;
  /** Every worker that ever reported, with what it enforces and what it lacks. */
  details: {
    workerId: string;
    region: string;
    liveness: 'reporting' | 'silent' | 'stopped';
    ready: boolean;
    inSync: boolean;
    startedAt: string;
    lastReportAt: string;
    enforces: { policyId: string; version: number; tenants: number }[];
    missing: { policyId: string; version: number }[];
    outdated: { policyId: string; version: number }[];
  }[];
}

/**
 * Workers against the policy versions in force for the tenants their region serves. Drift is judged on every
 * tenant (a worker serves them all); an actor scoped to some tenants sees only the policies governing those, and
 * the workers of regions that serve them.
 */
export async function workerDriftReport(queries: ReadModelQueries, tenantScope?: string[]): Promise<WorkerDriftReport> {
  const [workers, live] = await Promise.all([queries.workers(), queries.liveTenants()]);
  const inForce = await queries.policiesInForceByTenant(live.map((t) => t.tenantId));
  const tenants: GovernedTenant[] = live.map((t) => ({
    tenantId: t.tenantId,
    jurisdiction: t.jurisdiction,
    policies: (inForce.get(t.tenantId) ?? []).map((p) => ({ policyId: p.policyId, version: p.version, document: p.document as PolicyDocument })),
  }));
  const drift = policyDrift(
    workers.filter((w) => w.liveness !== 'stopped'),
    tenants,
  );
  const scoped = tenantScope ? new Set(tenantScope) : undefined;
  const visible = scoped ? new Set(tenants.filter((t) => scoped.has(t.tenantId)).flatMap((t) => t.policies.map((p) => p.policyId))) : undefined;
  const keep = <T extends { policyId: string }>(list: T[]) => (visible ? list.filter((p) => visible.has(p.policyId)) : list);
  const byId = new Map(workers.map((w) => [w.workerId, w]));
  const details = drift.map((d) => {
    const w = byId.get(d.workerId)!;
    const missing = keep(d.missing);
    const outdated = keep(d.outdated);
    return {
      workerId: d.workerId,
      region: d.region,
      liveness: d.liveness,
      ready: w.ready,
      inSync: d.liveness === 'reporting' && w.ready && missing.length === 0 && outdated.length === 0,
      startedAt: w.startedAt,
      lastReportAt: w.lastReportAt,
      enforces: keep(w.policies),
      missing,
      outdated,
    };
  });
  return { reported: true, workers: details.length, inSync: details.filter((d) => d.inSync).length, details };
}
