/**
 * "Who could decrypt this tenant's data at time T", answered from the world the mesh bridge folds (pure, no I/O).
 *
 * The world folded up to T is what the regional workers were told at T, so each (system, region) pair is judged
 * with the rules of `decideAccess`, in its order, on the view a fresh, ready and heartbeat-fresh worker of that
 * region would hold: tenant status, geofence, system, key link. Keep the two in step: the property test in
 * decrypt-access.spec.ts builds a TenantViewStore per region and asserts they never disagree.
 *
 * Revocation receipts add what the views alone cannot say: a region learns of a revocation only when it receives
 * it, so until its RevocationEnforced receipt a region could still have served. Those are listed apart.
 */
import { ENFORCEMENT_CAUSES, type EnforcementCause } from '@cmk/domain';
import type { DenialReason } from './access-decision';
import type { KeyLinkStatus, KeyLinkView, PolicyRef, SystemView, TenantStatus, TenantView } from './orbital.messages';
import { effectivePolicies, type TenantViewWorld, viewOf } from './tenant-view.fold';

/** Why nobody could decrypt: a worker's denial reason, or that the tenant had no registered system at all. */
export type NobodyReason = DenialReason | 'no-system' | 'no-configured-region';

export interface KeyLinkAccess {
  keyLinkId: string;
  status: KeyLinkStatus;
  /** Reference to the L1 key at the customer's root of trust (never key material). */
  keyReference: string;
  providerKind: string;
  mode: KeyLinkView['mode'];
  /** The L1 key's version at the provider as last recorded; null where the provider has no versions. */
  l1KeyVersion: string | null;
  /** The L2 version new data keys were sealed under. */
  tenantKeyVersion: number;
}

export interface SystemDecryptAccess {
  systemId: string;
  /** Where the system is registered; not an access rule (the geofence is), shown for the reader. */
  systemRegion: string;
  keyLinkId: string;
  /** Null when the view names no such link (a worker denies key-link-not-active). */
  keyLink: KeyLinkAccess | null;
  /** Configured regions whose worker would have allowed this system, sorted. */
  regions: string[];
  /** Every other configured region and the worker's reason, in the order of `configuredRegions`. */
  denied: { region: string; reason: DenialReason }[];
  /** With no region at all: the first reason in decision order, from the regions that held the tenant's view
   *  (every configured region when none did); null when some region allows. */
  reason: DenialReason | null;
}

export interface GeofenceRule {
  policyId: string;
  version: number;
  /** The rule path, e.g. `geofence.unwrapRegions.EU`. */
  rule: string;
  regions: string[];
}

export interface PendingRegion {
  region: string;
  /** When the region's first worker started denying (after T), or null: no receipt yet. */
  enforcedAt: string | null;
}

/** A revocation in force at T that some region had not enforced yet at T: it could still have served there. */
export interface PendingRevocation {
  revocationPosition: string;
  cause: EnforcementCause;
  keyLinkId?: string;
  /** When the revoking event was recorded. */
  revokedAt: string;
  /** When the bridge put it on the mesh; null, or a time after T, when no region had been told at T. */
  dispatchedAt: string | null;
  regions: PendingRegion[];
}

export interface DecryptAccessAnswer {
  tenantId: string;
  status: TenantStatus;
  jurisdiction: string;
  configuredRegions: string[];
  geofence: {
    /** The view's geofence; null: no policy restricts the tenant's jurisdiction. */
    allowedRegions: string[] | null;
    /** Configured regions inside the geofence: those whose worker held the tenant's view. */
    servedRegions: string[];
    /** The rules that set it (every one restricts; the geofence is their intersection). */
    setBy: GeofenceRule[];
  };
  /** Policy versions in force, each once, sorted by id then version. */
  policies: PolicyRef[];
  systems: SystemDecryptAccess[];
  couldDecrypt: boolean;
  /** When nobody could: each distinct reason once, in decision order, from the regions that held the tenant's view
   *  (from every configured region when none did: then the geofence or the tenant's status is why). */
  reasons: NobodyReason[];
  pendingRevocations: PendingRevocation[];
}

/** A revoking event (KeyLinkRevoked, KeyUnlinked, TenantSuspended, TenantOffboarded) of the tenant, up to T. */
export interface RevocationRecord {
  position: string;
  cause: EnforcementCause;
  keyLinkId?: string;
  recordedAt: string;
}

/** The tenant's enforcement stream as plain data (RevocationDispatched / RevocationEnforced), at any time. */
export type EnforcementReceipt =
  | { type: 'RevocationDispatched'; recordedAt: string; revocationPosition: string; regions: readonly string[] }
  | { type: 'RevocationEnforced'; revocationPosition: string; region: string; enforcedAt: string };

export interface DecryptAccessInput {
  world: TenantViewWorld;
  tenantId: string;
  /** The regions the deployment runs workers in (the bridge's CMK_REGIONS). */
  regions: readonly string[];
  at: Date;
  revocations?: readonly RevocationRecord[];
  receipts?: readonly EnforcementReceipt[];
}

/** Decision order of the reasons (that of decideAccess), so summaries list them as a worker would meet them. */
const ORDER: readonly NobodyReason[] = [
  'no-configured-region',
  'tenant-suspended',
  'tenant-offboarded',
  'region-not-allowed',
  'no-system',
  'unknown-system',
  'key-link-revoked',
  'key-link-not-active',
];

/** Undefined when the world has not seen the tenant onboarded (it did not exist at T). */
export function decryptAccess(input: DecryptAccessInput): DecryptAccessAnswer | undefined {
  const view = viewOf(input.world, input.tenantId);
  if (!view) return undefined;
  const configuredRegions = [...new Set(input.regions)];
  const inForce = effectivePolicies(input.world, input.tenantId);
  const servedRegions = configuredRegions.filter((r) => serves(view, r));
  // Regions outside the geofence never could; where some region held the view, why nobody there is the answer.
  const telling: ReadonlySet<string> = new Set(servedRegions.length > 0 ? servedRegions : configuredRegions);
  const systems = Object.values(view.systems)
    .sort((a, b) => compare(a.systemId, b.systemId))
    .map((system) => systemAccess(view, system, configuredRegions, telling));
  const couldDecrypt = systems.some((s) => s.regions.length > 0);
  const reasons = new Set<NobodyReason>();
  if (!couldDecrypt) {
    if (configuredRegions.length === 0) reasons.add('no-configured-region');
    else if (systems.length === 0) for (const region of telling) reasons.add(tenantReason(view, region) ?? 'no-system');
    for (const s of systems) for (const d of s.denied) if (telling.has(d.region)) reasons.add(d.reason);
  }
  return {
    tenantId: view.tenantId,
    status: view.status,
    jurisdiction: view.jurisdiction,
    configuredRegions,
    geofence: {
      allowedRegions: view.allowedRegions === null ? null : [...view.allowedRegions],
      servedRegions: [...servedRegions].sort(),
      setBy: geofenceRules(inForce, view.jurisdiction),
    },
    policies: policyRefs(inForce),
    systems,
    couldDecrypt,
    reasons: [...reasons].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)),
    pendingRevocations: pendingRevocations(input, view, configuredRegions),
  };
}

function serves(view: TenantView, region: string): boolean {
  return view.allowedRegions === null || view.allowedRegions.includes(region);
}

/**
 * The tenant-level part of decideAccess for a fresh worker of `region`: a view outside the geofence is not held
 * there at all (the store's absence: offboarded first, else region-not-allowed); a held view is judged by status.
 */
function tenantReason(view: TenantView, region: string): DenialReason | undefined {
  if (!serves(view, region)) return view.status === 'offboarded' ? 'tenant-offboarded' : 'region-not-allowed';
  if (view.status === 'suspended') return 'tenant-suspended';
  if (view.status === 'offboarded') return 'tenant-offboarded';
  return undefined;
}

function systemAccess(view: TenantView, system: SystemView, configuredRegions: readonly string[], telling: ReadonlySet<string>): SystemDecryptAccess {
  const link = Object.hasOwn(view.keyLinks, system.keyLinkId) ? view.keyLinks[system.keyLinkId] : undefined;
  const linkReason: DenialReason | undefined = !link
    ? 'key-link-not-active'
    : link.status === 'revoked' || link.status === 'unlinked'
      ? 'key-link-revoked'
      : link.status !== 'active'
        ? 'key-link-not-active'
        : undefined;
  const regions: string[] = [];
  const denied: { region: string; reason: DenialReason }[] = [];
  for (const region of configuredRegions) {
    const reason = tenantReason(view, region) ?? linkReason;
    if (reason) denied.push({ region, reason });
    else regions.push(region);
  }
  const first = denied.filter((d) => telling.has(d.region)).map((d) => d.reason).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))[0];
  return {
    systemId: system.systemId,
    systemRegion: system.region,
    keyLinkId: system.keyLinkId,
    keyLink: link
      ? {
          keyLinkId: link.keyLinkId,
          status: link.status,
          keyReference: link.keyReference,
          providerKind: link.providerKind,
          mode: link.mode,
          l1KeyVersion: link.l1KeyVersion ?? null,
          tenantKeyVersion: link.tenantKeyVersion ?? 1,
        }
      : null,
    regions: regions.sort(),
    denied,
    reason: regions.length === 0 ? (first ?? null) : null,
  };
}

function geofenceRules(inForce: readonly { policyId: string; version: number; document: { geofence?: { unwrapRegions?: Record<string, string[]> } } }[], jurisdiction: string): GeofenceRule[] {
  const rules = new Map<string, GeofenceRule>();
  for (const { policyId, version, document } of inForce) {
    const regions = document.geofence?.unwrapRegions;
    if (!regions || !Object.hasOwn(regions, jurisdiction)) continue;
    rules.set(`${policyId}\u0000${version}`, { policyId, version, rule: `geofence.unwrapRegions.${jurisdiction}`, regions: [...regions[jurisdiction]].sort() });
  }
  return [...rules.values()].sort((a, b) => compare(a.policyId, b.policyId) || a.version - b.version);
}

function policyRefs(inForce: readonly { policyId: string; version: number }[]): PolicyRef[] {
  const seen = new Map<string, PolicyRef>();
  for (const { policyId, version } of inForce) seen.set(`${policyId}\u0000${version}`, { policyId, version });
  return [...seen.values()].sort((a, b) => compare(a.policyId, b.policyId) || a.version - b.version);
}

/**
 * Revocations still in effect at T (the link still revoked or unlinked, the tenant still suspended or offboarded)
 * whose enforcement some region had not confirmed by T. The regions expected are those the bridge named when it
 * dispatched; before any dispatch, the configured regions that held the tenant's view.
 */
function pendingRevocations(input: DecryptAccessInput, view: TenantView, configuredRegions: readonly string[]): PendingRevocation[] {
  const at = input.at.getTime();
  const dispatched = new Map<string, { recordedAt: string; regions: readonly string[] }>();
  const enforced = new Map<string, Map<string, string>>();
  for (const r of input.receipts ?? []) {
    if (r.type === 'RevocationDispatched') {
      if (!dispatched.has(r.revocationPosition)) dispatched.set(r.revocationPosition, { recordedAt: r.recordedAt, regions: r.regions });
      continue;
    }
    const byRegion = enforced.get(r.revocationPosition) ?? new Map<string, string>();
    const earlier = byRegion.get(r.region);
    // The region stopped when its first worker did.
    if (earlier === undefined || Date.parse(r.enforcedAt) < Date.parse(earlier)) byRegion.set(r.region, r.enforcedAt);
    enforced.set(r.revocationPosition, byRegion);
  }
  const pending: PendingRevocation[] = [];
  for (const revocation of input.revocations ?? []) {
    if (!ENFORCEMENT_CAUSES.includes(revocation.cause) || Date.parse(revocation.recordedAt) > at || !stillInEffect(revocation, view)) continue;
    const dispatch = dispatched.get(revocation.position);
    const expected = dispatch ? [...new Set(dispatch.regions)] : configuredRegions.filter((r) => serves(view, r));
    const regions: PendingRegion[] = [];
    for (const region of [...expected].sort()) {
      const enforcedAt = enforced.get(revocation.position)?.get(region) ?? null;
      if (enforcedAt === null || Date.parse(enforcedAt) > at) regions.push({ region, enforcedAt });
    }
    if (regions.length === 0) continue;
    pending.push({
      revocationPosition: revocation.position,
      cause: revocation.cause,
      ...(revocation.keyLinkId !== undefined ? { keyLinkId: revocation.keyLinkId } : {}),
      revokedAt: revocation.recordedAt,
      dispatchedAt: dispatch?.recordedAt ?? null,
      regions,
    });
  }
  return pending.sort((a, b) => compareDecimal(a.revocationPosition, b.revocationPosition));
}

function stillInEffect(revocation: RevocationRecord, view: TenantView): boolean {
  switch (revocation.cause) {
    case 'TenantSuspended':
      return view.status === 'suspended';
    case 'TenantOffboarded':
      return view.status === 'offboarded';
    default: {
      const link = revocation.keyLinkId !== undefined && Object.hasOwn(view.keyLinks, revocation.keyLinkId) ? view.keyLinks[revocation.keyLinkId] : undefined;
      return link?.status === 'revoked' || link?.status === 'unlinked';
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareDecimal(a: string, b: string): number {
  return a.length - b.length || compare(a, b);
}
