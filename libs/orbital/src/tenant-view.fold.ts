/**
 * The governance world as the mesh bridge sees it, folded from recorded events (tenant, system, keylink, tenantkey,
 * policy and policyscope streams), and the tenant views it publishes. Deterministic and free of I/O: folding the same
 * events in the same order always gives the same views and the same changes, which is what lets a restarted
 * bridge rebuild its world from the event store and re-send exactly what it may have sent before.
 *
 * The world is mutable on purpose: one bridge folds every event of the log into it, and copying maps per event
 * would make a replay quadratic. Only `foldEvent` changes it.
 */
import { maxStalenessOf, unwrapRegionsOf, type PolicyDocument } from '@cmk/policy';
import { Categories, jurisdictionOfScope, parseStreamName, scopesGoverning } from '@cmk/domain';
import { KeyLinkStatus, KeyLinkView, PolicyRef, SystemView, TenantStatus, TenantView } from './orbital.messages';
import { registerTenantKey, rewrapTenantKey } from './tenant-keys';

/** What the fold needs of a recorded event (the event store's RecordedEvent fits). */
export interface GovernanceRecord {
  streamName: string;
  position: bigint;
  type: string;
  data: unknown;
}

interface TenantFacts {
  tenantId: string;
  status: TenantStatus;
  jurisdiction: string;
  homeRegion: string;
  /** Offboarding is final: the view at that moment is the tenant's last one (see foldEvent). */
  finalView?: TenantView;
}

interface SystemFacts extends SystemView {
  tenantId: string;
  registered: boolean;
}

interface KeyLinkFacts extends KeyLinkView {
  tenantId: string;
}

interface PolicyFacts {
  versions: Map<number, PolicyDocument>;
  latest: number;
}

export interface TenantViewWorld {
  readonly tenants: Map<string, TenantFacts>;
  readonly systems: Map<string, SystemFacts>;
  readonly keyLinks: Map<string, KeyLinkFacts>;
  readonly systemsByTenant: Map<string, Set<string>>;
  readonly keyLinksByTenant: Map<string, Set<string>>;
  readonly policies: Map<string, PolicyFacts>;
  /** Per scope ('global' or a tenant id): policy id -> pinned version or 'latest'. */
  readonly assignments: Map<string, Map<string, number | 'latest'>>;
}

/** A tenant whose view differs after an event: `before` is undefined for a tenant the event created. */
export interface TenantViewChange {
  tenantId: string;
  /** Position of the event that changed it. */
  position: bigint;
  before: TenantView | undefined;
  after: TenantView;
}

export const GLOBAL_SCOPE = 'global';

/** The categories the fold reads; subscribe with this filter. */
export const TENANT_VIEW_CATEGORIES: readonly string[] = [
  Categories.tenant,
  Categories.system,
  Categories.keyLink,
  Categories.tenantKey,
  Categories.policy,
  Categories.policyScope,
];

export function emptyWorld(): TenantViewWorld {
  return {
    tenants: new Map(),
    systems: new Map(),
    keyLinks: new Map(),
    systemsByTenant: new Map(),
    keyLinksByTenant: new Map(),
    policies: new Map(),
    assignments: new Map(),
  };
}

/** Folds every event, in order, into a new world. */
export function foldAll(events: Iterable<GovernanceRecord>): TenantViewWorld {
  const world = emptyWorld();
  for (const event of events) foldEvent(world, event);
  return world;
}

/**
 * Folds one event into the world (changing it in place) and returns the tenants whose view it changed, in a
 * stable order. A policy revision concerns every tenant the policy is assigned to (globally: all of them), an
 * assignment in the global scope every tenant; of those, only tenants whose view comes out different count. A
 * display name change, or a revision that a pinned tenant does not follow, is no change. Events of other
 * categories, and unknown event types, change nothing.
 */
export function foldEvent(world: TenantViewWorld, event: GovernanceRecord): TenantViewChange[] {
  let parsed: { category: string; id: string };
  try {
    parsed = parseStreamName(event.streamName);
  } catch {
    return [];
  }
  const candidates = candidatesOf(world, parsed.category, parsed.id, event);
  if (candidates.length === 0) {
    apply(world, parsed.category, parsed.id, event);
    return [];
  }
  const before = candidates.map((t) => viewOf(world, t));
  apply(world, parsed.category, parsed.id, event);
  const changes: TenantViewChange[] = [];
  candidates.forEach((tenantId, i) => {
    const facts = world.tenants.get(tenantId);
    if (!facts) return;
    // Offboarding freezes the view: later events (a link unlinked afterwards, a global policy change) no longer
    // concern a tenant no region serves, and the compacted state keeps its last view.
    if (facts.status === 'offboarded' && !facts.finalView) facts.finalView = computeView(world, facts);
    const after = viewOf(world, tenantId)!;
    if (before[i] === undefined || JSON.stringify(before[i]) !== JSON.stringify(after)) {
      changes.push({ tenantId, position: event.position, before: before[i], after });
    }
  });
  return changes;
}

/** The view of one tenant, or undefined for a tenant the world has not seen onboarded. */
export function viewOf(world: TenantViewWorld, tenantId: string): TenantView | undefined {
  const facts = world.tenants.get(tenantId);
  if (!facts) return undefined;
  return facts.finalView ?? computeView(world, facts);
}

/** Every tenant the world knows, offboarded ones included, in onboarding order. */
export function tenantIdsOf(world: TenantViewWorld): string[] {
  return [...world.tenants.keys()];
}

/** Documents of the policies in force for a tenant: those assigned globally plus those assigned to it. */
export function effectivePolicies(world: TenantViewWorld, tenantId: string): { policyId: string; version: number; document: PolicyDocument }[] {
  const inForce: { policyId: string; version: number; document: PolicyDocument }[] = [];
  for (const scope of scopesGoverning(tenantId, world.tenants.get(tenantId)?.jurisdiction)) {
    for (const [policyId, pinned] of world.assignments.get(scope) ?? []) {
      const policy = world.policies.get(policyId);
      if (!policy) continue;
      const version = pinned === 'latest' ? policy.latest : pinned;
      const document = policy.versions.get(version);
      if (document) inForce.push({ policyId, version, document });
    }
  }
  return inForce;
}

function computeView(world: TenantViewWorld, facts: TenantFacts): TenantView {
  const systems: [string, SystemView][] = [];
  for (const id of sorted(world.systemsByTenant.get(facts.tenantId))) {
    const s = world.systems.get(id)!;
    if (s.registered) systems.push([id, { systemId: s.systemId, keyLinkId: s.keyLinkId, region: s.region }]);
  }
  const keyLinks: [string, KeyLinkView][] = [];
  for (const id of sorted(world.keyLinksByTenant.get(facts.tenantId))) {
    const { tenantId: _tenant, ...link } = world.keyLinks.get(id)!;
    keyLinks.push([id, link]);
  }
  const inForce = effectivePolicies(world, facts.tenantId);
  return {
    tenantId: facts.tenantId,
    status: facts.status,
    jurisdiction: facts.jurisdiction,
    homeRegion: facts.homeRegion,
    allowedRegions: unwrapRegionsOf(inForce.map((p) => p.document), facts.jurisdiction),
    // The smallest `failClosed.maxStalenessMs` of the policies in force, else the default.
    maxStalenessMs: maxStalenessOf(inForce.map((p) => p.document)),
    systems: Object.fromEntries(systems),
    keyLinks: Object.fromEntries(keyLinks),
    policies: policyRefs(inForce),
  };
}

/** The versions in force, each once (a policy assigned at two scopes may be in force twice), in a stable order. */
function policyRefs(inForce: readonly { policyId: string; version: number }[]): PolicyRef[] {
  const seen = new Map<string, PolicyRef>();
  for (const { policyId, version } of inForce) seen.set(`${policyId}\u0000${version}`, { policyId, version });
  return [...seen.values()].sort((a, b) => (a.policyId < b.policyId ? -1 : a.policyId > b.policyId ? 1 : a.version - b.version));
}

/** Tenants whose view the event may change (decided before applying it, from the world as it was). */
function candidatesOf(world: TenantViewWorld, category: string, id: string, event: GovernanceRecord): string[] {
  const data = (event.data ?? {}) as { tenantId?: unknown };
  switch (category) {
    case Categories.tenant:
      return [id];
    case Categories.system:
    case Categories.keyLink:
    case Categories.tenantKey:
      return typeof data.tenantId === 'string' ? [data.tenantId] : [];
    case Categories.policyScope:
      return id === GLOBAL_SCOPE ? liveTenants(world) : jurisdictionOfScope(id) ? tenantsIn(world, jurisdictionOfScope(id)!) : world.tenants.has(id) ? [id] : [];
    case Categories.policy: {
      // Every tenant the policy is assigned to, pinned or not: the change check then drops those whose view
      // stays the same (pinned to an older version, or a revision that leaves their jurisdiction alone).
      if (world.assignments.get(GLOBAL_SCOPE)?.has(id)) return liveTenants(world);
      const affected: string[] = [];
      for (const [scope, assigned] of world.assignments) {
        if (scope === GLOBAL_SCOPE || !assigned.has(id)) continue;
        const jurisdiction = jurisdictionOfScope(scope);
        if (jurisdiction) affected.push(...tenantsIn(world, jurisdiction));
        else if (world.tenants.has(scope)) affected.push(scope);
      }
      return [...new Set(affected)];
    }
    default:
      return [];
  }
}

function tenantsIn(world: TenantViewWorld, jurisdiction: string): string[] {
  return liveTenants(world).filter((id) => world.tenants.get(id)!.jurisdiction === jurisdiction);
}

function liveTenants(world: TenantViewWorld): string[] {
  return [...world.tenants.values()].filter((t) => t.status !== 'offboarded').map((t) => t.tenantId);
}

/** Event data as recorded: the shapes of libs/domain's events, read field by field. */
type EventData = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function apply(world: TenantViewWorld, category: string, id: string, event: GovernanceRecord): void {
  // The data shapes are those of libs/domain's events; fields are read defensively because this runs over the
  // whole recorded history and must not stop the bridge on one odd event.
  const d = (event.data ?? {}) as EventData;
  switch (category) {
    case Categories.tenant:
      return applyTenant(world, id, event.type, d);
    case Categories.system:
      return applySystem(world, id, event.type, d);
    case Categories.keyLink:
      return applyKeyLink(world, id, event.type, d);
    case Categories.tenantKey:
      return applyTenantKey(world, id, event.type, d);
    case Categories.policy:
      return applyPolicy(world, id, event.type, d);
    case Categories.policyScope:
      return applyScope(world, id, event.type, d);
  }
}

function applyTenant(world: TenantViewWorld, tenantId: string, type: string, d: EventData): void {
  const tenant = world.tenants.get(tenantId);
  if (type === 'TenantOnboarded') {
    world.tenants.set(tenantId, { tenantId, status: 'active', jurisdiction: String(d.jurisdiction), homeRegion: String(d.homeRegion) });
    return;
  }
  if (!tenant || tenant.status === 'offboarded') return;
  if (type === 'TenantUpdated' && typeof d.changes?.homeRegion === 'string') tenant.homeRegion = d.changes.homeRegion;
  else if (type === 'TenantSuspended') tenant.status = 'suspended';
  else if (type === 'TenantResumed') tenant.status = 'active';
  else if (type === 'TenantOffboarded') tenant.status = 'offboarded';
}

function applySystem(world: TenantViewWorld, systemId: string, type: string, d: EventData): void {
  const system = world.systems.get(systemId);
  if (type === 'SystemRegistered') {
    world.systems.set(systemId, { systemId, tenantId: d.tenantId, keyLinkId: d.keyLinkId, region: d.region, registered: true });
    setOf(world.systemsByTenant, d.tenantId).add(systemId);
  } else if (!system) return;
  else if (type === 'SystemDeregistered') system.registered = false;
  else if (type === 'SystemRebound') system.keyLinkId = d.toKeyLinkId;
}

function applyKeyLink(world: TenantViewWorld, keyLinkId: string, type: string, d: EventData): void {
  const link = world.keyLinks.get(keyLinkId);
  if (type === 'KeyLinked') {
    world.keyLinks.set(keyLinkId, {
      keyLinkId,
      tenantId: d.tenantId,
      status: 'pending',
      providerKind: d.providerKind,
      mode: d.mode,
      keyReference: d.keyReference,
      algorithm: d.algorithm,
      keySize: d.keySize,
      providerRegion: d.providerRegion,
    });
    setOf(world.keyLinksByTenant, d.tenantId).add(keyLinkId);
    return;
  }
  if (!link) return;
  if (type === 'TenantKeyRotationRequested') {
    link.tenantKeyVersion = (link.tenantKeyVersion ?? 1) + 1;
    return;
  }
  // Every event that reports the L1 key's version at the provider; a change makes workers re-wrap the L2 keys.
  if (L1_VERSION_EVENTS.has(type) && typeof d.keyVersion === 'string' && d.keyVersion !== '') {
    link.l1KeyVersion = d.keyVersion;
    return;
  }
  const next: Record<string, KeyLinkStatus | undefined> = {
    KeyLinkActivated: 'active',
    KeyLinkRevoked: 'revoked',
    KeyLinkRestored: d.restoredStatus === 'active' ? 'active' : 'pending',
    KeyUnlinked: 'unlinked',
  };
  if (Object.hasOwn(next, type)) link.status = next[type]!;
}

const L1_VERSION_EVENTS: ReadonlySet<string> = new Set(['KeyPossessionProven', 'KeyMaterialImported', 'KeyLinkRotated', 'KeyVersionRotatedAtProvider']);

/** Registry entries are replaced, never changed in place: the view from before the event must stay as it was. */
function applyTenantKey(world: TenantViewWorld, keyLinkId: string, type: string, d: EventData): void {
  const link = world.keyLinks.get(keyLinkId);
  // A report about a link of another tenant (or of none) changes nothing.
  if (!link || link.tenantId !== d.tenantId || typeof d.l2Id !== 'string' || typeof d.wrappedL2 !== 'string') return;
  let keys = link.tenantKeys;
  if (type === 'TenantKeyGenerated' && Number.isInteger(d.l2Version) && typeof d.l2Fingerprint === 'string') {
    keys = registerTenantKey(keys, {
      l2Id: d.l2Id,
      l2Version: d.l2Version,
      wrappedL2: d.wrappedL2,
      ...(typeof d.l1KeyVersion === 'string' ? { l1KeyVersion: d.l1KeyVersion } : {}),
      l2Fingerprint: d.l2Fingerprint,
    });
  } else if (type === 'TenantKeyRewrapped' && typeof d.l1KeyVersion === 'string') {
    keys = rewrapTenantKey(keys, link.l1KeyVersion, { l2Id: d.l2Id, wrappedL2: d.wrappedL2, l1KeyVersion: d.l1KeyVersion });
  }
  if (keys !== link.tenantKeys) link.tenantKeys = keys;
}

function applyPolicy(world: TenantViewWorld, policyId: string, type: string, d: EventData): void {
  if (type === 'PolicyDefined') {
    world.policies.set(policyId, { versions: new Map([[1, d.document ?? {}]]), latest: 1 });
    return;
  }
  const policy = world.policies.get(policyId);
  if (type === 'PolicyRevised' && policy && Number.isInteger(d.version)) {
    policy.versions.set(d.version, d.document ?? {});
    policy.latest = Math.max(policy.latest, d.version);
  }
}

function applyScope(world: TenantViewWorld, scope: string, type: string, d: EventData): void {
  if (typeof d.policyId !== 'string') return;
  if (type === 'PolicyAssigned') scopeOf(world, scope).set(d.policyId, d.version === 'latest' ? 'latest' : Number(d.version));
  else if (type === 'PolicyUnassigned') world.assignments.get(scope)?.delete(d.policyId);
}

function setOf(index: Map<string, Set<string>>, key: string): Set<string> {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  return set;
}

function scopeOf(world: TenantViewWorld, scope: string): Map<string, number | 'latest'> {
  let assigned = world.assignments.get(scope);
  if (!assigned) world.assignments.set(scope, (assigned = new Map()));
  return assigned;
}

function sorted(ids: Set<string> | undefined): string[] {
  return ids ? [...ids].sort() : [];
}
