import type { PolicyDocument } from './policy-document';

/**
 * The geofence of a tenant: every policy in force that names the tenant's jurisdiction restricts it, so the regions
 * are the intersection of theirs (possibly empty: then no region may unwrap), sorted. No such policy: null, no
 * restriction. The one definition the mesh (which regions get a tenant's view) and compliance (which regions
 * must enforce a tenant's policies) share.
 */
export function unwrapRegionsOf(documents: readonly PolicyDocument[], jurisdiction: string): string[] | null {
  const restrictions: string[][] = [];
  for (const document of documents) {
    const regions = document.geofence?.unwrapRegions;
    if (regions && Object.hasOwn(regions, jurisdiction)) restrictions.push(regions[jurisdiction]);
  }
  if (restrictions.length === 0) return null;
  return [...new Set(restrictions[0])].filter((r) => restrictions.every((list) => list.includes(r))).sort();
}
