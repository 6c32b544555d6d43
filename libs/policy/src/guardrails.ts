import type { PolicyInForce } from './key-strength.rule';
import type { ApprovalAction, PolicyDocument } from './policy-document';

export interface Loosening {
  rule: 'guardrail.loosens';
  /** The guardrail hit, as a path in the narrower document, e.g. `$.keyStrength.minimumBits.RSA`. */
  path: string;
  message: string;
  /** The wider policy whose guardrail it is. */
  policyId: string;
  policyVersion: number;
}

/**
 * A narrower scope may tighten the guardrails of wider ones, never loosen them: a tenant policy that allows what a
 * global policy forbids (a lower minimum, an algorithm, a provider kind or a region outside the wider list, a longer
 * maximum age (L1 or L2) or staleness bound) is refused, naming each guardrail it hit. (Enforcement checks every policy in
 * force anyway, so a looser one could not loosen anything; refusing it says so to its author.)
 */
export function looseningsOf(narrow: PolicyDocument, wider: PolicyInForce[]): Loosening[] {
  const found: Loosening[] = [];
  const hit = (p: PolicyInForce, path: string, message: string) => found.push({ rule: 'guardrail.loosens', path, message, policyId: p.policyId, policyVersion: p.version });
  for (const p of wider) {
    const w = p.document;
    for (const [alg, bits] of Object.entries(narrow.keyStrength?.minimumBits ?? {})) {
      const floor = w.keyStrength?.minimumBits?.[alg as keyof typeof w.keyStrength.minimumBits];
      if (floor !== undefined && bits !== undefined && bits < floor) hit(p, `$.keyStrength.minimumBits.${alg}`, `${alg} minimum ${bits} is below the wider minimum of ${floor} bits`);
    }
    notWithin(narrow.keyStrength?.allowedAlgorithms, w.keyStrength?.allowedAlgorithms, (extra) => hit(p, '$.keyStrength.allowedAlgorithms', `allows ${extra.join(', ')}, which the wider policy does not`));
    notWithin(narrow.providers?.allowedKinds, w.providers?.allowedKinds, (extra) => hit(p, '$.providers.allowedKinds', `allows provider kinds ${extra.join(', ')}, which the wider policy does not`));
    for (const field of ['unwrapRegions', 'rootOfTrustRegions'] as const) {
      for (const [jurisdiction, regions] of Object.entries(narrow.geofence?.[field] ?? {})) {
        notWithin(regions, w.geofence?.[field]?.[jurisdiction], (extra) => hit(p, `$.geofence.${field}.${jurisdiction}`, `allows ${extra.join(', ')} for ${jurisdiction}, outside the wider geofence`));
      }
    }
    const maxAge = narrow.rotation?.maxAgeDays;
    const widerMaxAge = w.rotation?.maxAgeDays;
    if (maxAge !== undefined && widerMaxAge !== undefined && maxAge > widerMaxAge) hit(p, '$.rotation.maxAgeDays', `${maxAge} days exceeds the wider maximum age of ${widerMaxAge} days`);
    const l2MaxAge = narrow.rotation?.tenantKeyMaxAgeDays;
    const widerL2MaxAge = w.rotation?.tenantKeyMaxAgeDays;
    if (l2MaxAge !== undefined && widerL2MaxAge !== undefined && l2MaxAge > widerL2MaxAge)
      hit(p, '$.rotation.tenantKeyMaxAgeDays', `${l2MaxAge} days exceeds the wider maximum tenant key (L2) age of ${widerL2MaxAge} days`);
    const staleness = narrow.failClosed?.maxStalenessMs;
    const widerStaleness = w.failClosed?.maxStalenessMs;
    if (staleness !== undefined && widerStaleness !== undefined && staleness > widerStaleness)
      hit(p, '$.failClosed.maxStalenessMs', `${staleness} ms exceeds the wider fail-closed bound of ${widerStaleness} ms`);
    for (const [action, count] of Object.entries(narrow.approvals?.required ?? {})) {
      const floor = w.approvals?.required?.[action as ApprovalAction];
      if (floor !== undefined && count !== undefined && count < floor) hit(p, `$.approvals.required.${action}`, `${count} approvers is fewer than the wider policy's ${floor} for ${action}`);
    }
    const expiry = narrow.approvals?.expiryHours;
    const widerExpiry = w.approvals?.expiryHours;
    if (expiry !== undefined && widerExpiry !== undefined && expiry > widerExpiry)
      hit(p, '$.approvals.expiryHours', `${expiry} hours is longer than the wider policy's ${widerExpiry} hours for approval requests`);
    if (narrow.hyokHealth?.onProblem === 'warn' && w.hyokHealth?.onProblem === 'revoke')
      hit(p, '$.hyokHealth.onProblem', 'warn is weaker than the wider policy, which revokes on a key problem');
  }
  return found;
}

function notWithin(narrow: readonly string[] | undefined, wide: readonly string[] | undefined, report: (extra: string[]) => void): void {
  if (!narrow || !wide) return;
  const extra = narrow.filter((x) => !wide.includes(x));
  if (extra.length > 0) report(extra);
}
