import { DEFAULT_MAX_STALENESS_MS, type PolicyDocument } from './policy-document';
import type { PolicyInForce, RuleFinding } from './key-strength.rule';

export interface PlacementCandidate {
  providerKind: string;
  providerRegion: string;
}

/**
 * Admission rules for where a root of trust may be: `providers.allowed-kinds` (the provider kind must be allowed
 * by every policy that lists kinds) and `geofence.root-of-trust-region` (the provider's region must be one the
 * policy allows for the tenant's jurisdiction). Every policy in force is checked, so the strictest wins.
 */
export function checkProviderPlacement(policies: PolicyInForce[], link: PlacementCandidate, jurisdiction: string): RuleFinding[] {
  const findings: RuleFinding[] = [];
  for (const p of policies) {
    const kinds = p.document.providers?.allowedKinds;
    if (kinds && !kinds.includes(link.providerKind))
      findings.push({
        rule: 'providers.allowed-kinds',
        message: `provider kind ${link.providerKind} is not allowed; allowed: ${kinds.join(', ')}`,
        policyId: p.policyId,
        policyVersion: p.version,
      });
    const regions = p.document.geofence?.rootOfTrustRegions;
    if (regions && Object.hasOwn(regions, jurisdiction) && !regions[jurisdiction].includes(link.providerRegion))
      findings.push({
        rule: 'geofence.root-of-trust-region',
        message: `a root of trust for ${jurisdiction} tenants may not live in ${link.providerRegion}; allowed: ${regions[jurisdiction].join(', ')}`,
        policyId: p.policyId,
        policyVersion: p.version,
      });
  }
  return findings;
}

/** The workers' fail-closed bound for a tenant: the smallest any policy in force sets, else the default. */
export function maxStalenessOf(documents: Iterable<PolicyDocument>): number {
  let bound = DEFAULT_MAX_STALENESS_MS;
  let set = false;
  for (const d of documents) {
    const ms = d.failClosed?.maxStalenessMs;
    if (ms !== undefined && (!set || ms < bound)) {
      bound = ms;
      set = true;
    }
  }
  return bound;
}

/**
 * What a key problem triggers for a tenant: `revoke` as soon as any policy in force says so (the strictest wins),
 * naming that policy; otherwise `warn`.
 */
export function keyProblemActionOf(policies: PolicyInForce[]): { onProblem: 'warn' | 'revoke'; policy?: { policyId: string; version: number } } {
  const revoking = policies.find((p) => p.document.hyokHealth?.onProblem === 'revoke');
  return revoking ? { onProblem: 'revoke', policy: { policyId: revoking.policyId, version: revoking.version } } : { onProblem: 'warn' };
}
