import type { KillSwitchScope, LinkInScope } from '@cmk/read-models';

export interface BlastRadius {
  scope: KillSwitchScope;
  keyLinks: number;
  tenants: number;
  systems: number;
  /** Regions whose workloads would lose access (systems' regions), with how many systems each. */
  regions: { region: string; systems: number }[];
  /** Key links in scope, with their tenant and systems (the first 1,000). */
  items: LinkInScope[];
  truncated: boolean;
}

const LISTED = 1000;

/** What a kill switch over `scope` would cut: pure summary of the links in scope. */
export function blastRadius(scope: KillSwitchScope, links: LinkInScope[]): BlastRadius {
  const regions = new Map<string, number>();
  let systems = 0;
  for (const link of links)
    for (const s of link.systems) {
      systems++;
      regions.set(s.region, (regions.get(s.region) ?? 0) + 1);
    }
  return {
    scope,
    keyLinks: links.length,
    tenants: new Set(links.map((l) => l.tenantId)).size,
    systems,
    regions: [...regions].sort(([a], [b]) => a.localeCompare(b)).map(([region, count]) => ({ region, systems: count })),
    items: links.slice(0, LISTED),
    truncated: links.length > LISTED,
  };
}

/** Exactly one criterion: a kill switch must say precisely what it cuts. */
export function scopeProblem(scope: KillSwitchScope): string | null {
  const given = (['tenantId', 'jurisdiction', 'providerKind', 'providerRegion', 'systemRegion', 'all'] as const).filter((k) => scope[k] !== undefined);
  if (given.length === 1) return null;
  return given.length === 0
    ? 'give exactly one of tenantId, jurisdiction, providerKind, providerRegion, systemRegion or all: true'
    : `give exactly one criterion, not ${given.join(' and ')}`;
}
