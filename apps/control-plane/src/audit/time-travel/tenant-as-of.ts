import { scopesGoverning } from '@cmk/domain';
import { effectivePolicies, viewOf } from '@cmk/orbital';
import type { TenantReplay } from './tenant-replay';

/**
 * The state of a tenant as of a past time, shaped for auditors: the view the workers held (status, geofence,
 * fail-closed bound, links with their key versions), the systems (deregistered ones too, marked), and the policies
 * in force with their documents. Undefined for a tenant not onboarded by then.
 */
export function tenantAsOf(replay: TenantReplay, tenantId: string) {
  const { world } = replay;
  const view = viewOf(world, tenantId);
  if (!view) return undefined;
  const registered = Object.values(view.systems).map((s) => ({ systemId: s.systemId, keyLinkId: s.keyLinkId, region: s.region, status: 'registered' as const }));
  const deregistered = [...(world.systemsByTenant.get(tenantId) ?? [])]
    .map((id) => world.systems.get(id)!)
    .filter((s) => !s.registered && !Object.hasOwn(view.systems, s.systemId))
    .map((s) => ({ systemId: s.systemId, keyLinkId: s.keyLinkId, region: s.region, status: 'deregistered' as const }));
  const scopes = scopesGoverning(tenantId, view.jurisdiction);
  const policies = new Map<string, { policyId: string; version: number; scopes: string[]; document: unknown }>();
  for (const { policyId, version, document } of effectivePolicies(world, tenantId)) {
    const key = `${policyId}\u0000${version}`;
    if (policies.has(key)) continue;
    policies.set(key, { policyId, version, scopes: scopes.filter((s) => world.assignments.get(s)?.has(policyId)), document });
  }
  return {
    tenantId,
    at: replay.at.toISOString(),
    position: replay.position,
    tenantPosition: replay.tenantPosition,
    replayedEvents: replay.replayed,
    tenant: { tenantId, status: view.status, jurisdiction: view.jurisdiction, homeRegion: view.homeRegion, allowedRegions: view.allowedRegions, maxStalenessMs: view.maxStalenessMs },
    systems: [...registered, ...deregistered].sort((a, b) => (a.systemId < b.systemId ? -1 : a.systemId > b.systemId ? 1 : 0)),
    keyLinks: Object.values(view.keyLinks).map((l) => ({
      keyLinkId: l.keyLinkId,
      status: l.status,
      providerKind: l.providerKind,
      mode: l.mode,
      keyReference: l.keyReference,
      algorithm: l.algorithm,
      keySize: l.keySize,
      providerRegion: l.providerRegion,
      l1KeyVersion: l.l1KeyVersion ?? null,
      tenantKeyVersion: l.tenantKeyVersion ?? 1,
      // Wrapped blobs stay out: what an auditor needs is which L2 versions existed and under which L1 version.
      tenantKeys: (l.tenantKeys ?? []).map((k) => ({ l2Id: k.l2Id, l2Version: k.l2Version, l1KeyVersion: k.l1KeyVersion ?? null, l2Fingerprint: k.l2Fingerprint })),
    })),
    policies: [...policies.values()].sort((a, b) => (a.policyId < b.policyId ? -1 : a.policyId > b.policyId ? 1 : a.version - b.version)),
  };
}
