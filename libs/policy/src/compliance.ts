import { checkKeyStrength, type PolicyInForce, type RuleFinding } from './key-strength.rule';
import { checkProviderPlacement } from './provider-placement.rule';

/** What the evaluator needs to know about an existing key link. */
export interface LinkUnderPolicy {
  keyLinkId: string;
  tenantId: string;
  jurisdiction: string | null;
  algorithm: string;
  keySize: number;
  providerKind: string;
  providerRegion: string;
}

export interface LinkFinding extends RuleFinding {
  keyLinkId: string;
  tenantId: string;
}

/**
 * The one evaluator for existing links: the same admission rules a new link meets (key strength, provider kind,
 * root-of-trust region), applied to links that exist. Deterministic: same policies and links, same findings, in
 * link order then rule order.
 */
export function evaluateLinks(policies: PolicyInForce[], links: LinkUnderPolicy[]): LinkFinding[] {
  const findings: LinkFinding[] = [];
  for (const link of links) {
    const found = [...checkKeyStrength(policies, link), ...(link.jurisdiction ? checkProviderPlacement(policies, link, link.jurisdiction) : [])];
    for (const f of found) findings.push({ ...f, keyLinkId: link.keyLinkId, tenantId: link.tenantId });
  }
  return findings;
}
