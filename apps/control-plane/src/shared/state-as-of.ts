import { Inject, Injectable } from '@nestjs/common';
import { KeyLinkEvent, keyLinkDecider, KeyLinkState, parseStreamName, TenantEvent, tenantDecider, TenantState } from '@cmk/domain';
import { EVENT_STORE, EventStore } from '@cmk/event-store';
import type { LinkUnderPolicy } from '@cmk/policy';

const PAGE = 5_000;

export interface RegistryAsOf {
  at: Date;
  /** Events replayed to build it. */
  replayed: number;
  tenants: Map<string, Extract<TenantState, { exists: true }>>;
  keyLinks: Map<string, Extract<KeyLinkState, { exists: true }>>;
}

/**
 * Time travel: the registry (tenants and key links) as it stood at a past moment, built by replaying the event
 * store up to that moment through the same deciders' `evolve` that built it then. Nothing is read from the read
 * models, which only know the present.
 */
@Injectable()
export class StateAsOf {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async registry(at: Date): Promise<RegistryAsOf> {
    const tenants = new Map<string, TenantState>();
    const keyLinks = new Map<string, KeyLinkState>();
    let after: bigint | undefined;
    let replayed = 0;
    for (;;) {
      const page = await this.store.readAll({ after, maxCount: PAGE, filter: { categories: ['tenant', 'keylink'] }, until: at });
      for (const e of page) {
        const { category, id } = parseStreamName(e.streamName);
        if (category === 'tenant') tenants.set(id, tenantDecider.evolve(tenants.get(id) ?? tenantDecider.initialState, e as unknown as TenantEvent));
        else keyLinks.set(id, keyLinkDecider.evolve(keyLinks.get(id) ?? keyLinkDecider.initialState, e as unknown as KeyLinkEvent));
      }
      replayed += page.length;
      if (page.length < PAGE) break;
      after = page[page.length - 1].position;
    }
    return { at, replayed, tenants: existing(tenants), keyLinks: existing(keyLinks) };
  }

  /** Pending and active links as of `at`, with what policy rules look at; `tenantIds` undefined: every tenant. */
  static linksUnderPolicy(registry: RegistryAsOf, tenantIds?: string[]): LinkUnderPolicy[] {
    const wanted = tenantIds ? new Set(tenantIds) : undefined;
    const links: LinkUnderPolicy[] = [];
    for (const link of registry.keyLinks.values()) {
      if (link.status !== 'pending' && link.status !== 'active') continue;
      if (wanted && !wanted.has(link.tenantId)) continue;
      const { keyLinkId, tenantId, algorithm, keySize, providerKind, providerRegion } = link;
      links.push({ keyLinkId, tenantId, jurisdiction: registry.tenants.get(tenantId)?.jurisdiction ?? null, algorithm, keySize, providerKind, providerRegion });
    }
    return links.sort((a, b) => (a.keyLinkId < b.keyLinkId ? -1 : a.keyLinkId > b.keyLinkId ? 1 : 0));
  }
}

function existing<S extends { exists: boolean }>(states: Map<string, S>): Map<string, Extract<S, { exists: true }>> {
  const out = new Map<string, Extract<S, { exists: true }>>();
  for (const [id, s] of states) if (s.exists) out.set(id, s as Extract<S, { exists: true }>);
  return out;
}
