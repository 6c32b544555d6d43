import type { PolicyDocument } from './policy-document';

export interface PolicyInForce {
  policyId: string;
  version: number;
  document: PolicyDocument;
}

export interface KeyCandidate {
  algorithm: string;
  keySize: number;
}

export interface RuleFinding {
  rule: string;
  message: string;
  policyId: string;
  policyVersion: number;
}

/**
 * Admission rule `key-strength`: the key's algorithm must be allowed and its size at least the minimum, by
 * every policy in force (the strictest wins because each is checked). Returns every violation, not just one.
 */
export function checkKeyStrength(policies: PolicyInForce[], key: KeyCandidate): RuleFinding[] {
  const findings: RuleFinding[] = [];
  for (const p of policies) {
    const ks = p.document.keyStrength;
    if (!ks) continue;
    if (ks.allowedAlgorithms && !ks.allowedAlgorithms.includes(key.algorithm as never))
      findings.push({
        rule: 'key-strength.allowed-algorithms',
        message: `algorithm ${key.algorithm} is not allowed; allowed: ${ks.allowedAlgorithms.join(', ')}`,
        policyId: p.policyId,
        policyVersion: p.version,
      });
    const minimum = ks.minimumBits?.[key.algorithm as keyof typeof ks.minimumBits];
    if (minimum !== undefined && key.keySize < minimum)
      findings.push({
        rule: 'key-strength.minimum-bits',
        message: `${key.algorithm}-${key.keySize} is below the minimum of ${minimum} bits`,
        policyId: p.policyId,
        policyVersion: p.version,
      });
  }
  return findings;
}
