import { Inject, Injectable } from '@nestjs/common';
import {
  Categories,
  DomainEvent,
  KeyLinkState,
  keyLinkDecider,
  latestVersion,
  parseStreamName,
  PolicyScopeState,
  PolicyState,
  policyDecider,
  policyScopeDecider,
  SystemState,
  systemDecider,
  tenantDecider,
  TenantState,
} from '@cmk/domain';
import { EVENT_STORE, EventStore, RecordedEvent } from '@cmk/event-store';

export interface TenantStateAsOf {
  asOf: string;
  /** Global position of the last event the replay included. */
  position: string;
  tenant: (TenantState & { exists: true }) | null;
  keyLinks: (KeyLinkState & { exists: true })[];
  systems: (SystemState & { exists: true })[];
  policies: { policyId: string; scope: string; version: number; document: unknown }[];
  /** Who could use this tenant's keys at that time: registered systems bound to active links of an active tenant. */
  couldDecrypt: { systemId: string; name: string; region: string; keyLinkId: string }[];
}

/**
 * Time travel by replay: folds the same deciders over every event recorded up to the given time. It reads the
 * log itself (not read models), so the answer holds even if a projection were wrong.
 */
@Injectable()
export class TenantHistory {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async asOf(tenantId: string, asOf: Date): Promise<TenantStateAsOf> {
    let tenant: TenantState = tenantDecider.initialState;
    const links = new Map<string, KeyLinkState>();
    const systems = new Map<string, SystemState>();
    const policies = new Map<string, PolicyState>();
    const scopes = new Map<string, PolicyScopeState>();
    let after = 0n;
    let position = 0n;
    const categories = [Categories.tenant, Categories.keyLink, Categories.system, Categories.policy, Categories.policyScope];
    for (;;) {
      const batch = await this.store.readAll({ after, maxCount: 2000, filter: { categories }, until: asOf });
      if (batch.length === 0) break;
      for (const e of batch) {
        after = e.position;
        if (this.apply(e, tenantId, { tenant: (s) => (tenant = s(tenant)), links, systems, policies, scopes })) position = e.position;
      }
    }
    const policiesInForce = [...scopes.entries()].flatMap(([scope, s]) =>
      Object.entries(s.assignments).flatMap(([policyId, pinned]) => {
        const p = policies.get(policyId);
        if (!p?.exists) return [];
        const version = pinned === 'latest' ? latestVersion(p) : pinned;
        const v = p.versions.find((x) => x.version === version);
        return v ? [{ policyId, scope, version, document: v.document }] : [];
      }),
    );
    const liveLinks = [...links.values()].filter((l): l is KeyLinkState & { exists: true } => l.exists);
    const liveSystems = [...systems.values()].filter((s): s is SystemState & { exists: true } => s.exists);
    const activeLinks = new Set(liveLinks.filter((l) => l.status === 'active').map((l) => l.keyLinkId));
    const tenantActive = tenant.exists && tenant.status === 'active';
    return {
      asOf: asOf.toISOString(),
      position: position.toString(),
      tenant: tenant.exists ? tenant : null,
      keyLinks: liveLinks,
      systems: liveSystems,
      policies: policiesInForce,
      couldDecrypt: tenantActive
        ? liveSystems
            .filter((s) => s.status === 'registered' && activeLinks.has(s.keyLinkId))
            .map((s) => ({ systemId: s.systemId, name: s.name, region: s.region, keyLinkId: s.keyLinkId }))
        : [],
    };
  }

  private apply(
    e: RecordedEvent,
    tenantId: string,
    into: {
      tenant: (f: (s: TenantState) => TenantState) => void;
      links: Map<string, KeyLinkState>;
      systems: Map<string, SystemState>;
      policies: Map<string, PolicyState>;
      scopes: Map<string, PolicyScopeState>;
    },
  ): boolean {
    const { category, id } = parseStreamName(e.streamName);
    const event = { type: e.type, data: e.data } as DomainEvent;
    const ofTenant = (e.data as { tenantId?: string }).tenantId === tenantId;
    switch (category) {
      case Categories.tenant:
        if (id !== tenantId) return false;
        into.tenant((s) => tenantDecider.evolve(s, event as never));
        return true;
      case Categories.keyLink:
        if (!ofTenant && !into.links.has(id)) return false;
        into.links.set(id, keyLinkDecider.evolve(into.links.get(id) ?? keyLinkDecider.initialState, event as never));
        return true;
      case Categories.system:
        if (!ofTenant && !into.systems.has(id)) return false;
        into.systems.set(id, systemDecider.evolve(into.systems.get(id) ?? systemDecider.initialState, event as never));
        return true;
      case Categories.policy:
        into.policies.set(id, policyDecider.evolve(into.policies.get(id) ?? policyDecider.initialState, event as never));
        return false;
      case Categories.policyScope:
        if (id !== 'global' && id !== tenantId) return false;
        into.scopes.set(id, policyScopeDecider.evolve(into.scopes.get(id) ?? policyScopeDecider.initialState, event as never));
        return true;
      default:
        return false;
    }
  }
}
