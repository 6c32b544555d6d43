import { Injectable } from '@nestjs/common';
import { AcceptedImpact, isJurisdictionScope, jurisdictionOfScope, PolicyViolationError, RuleViolation, widerScopes } from '@cmk/domain';
import { evaluateLinks, looseningsOf, type LinkFinding, type LinkUnderPolicy, type PolicyDocument } from '@cmk/policy';
import { Facts } from '../shared/facts';
import { ReadSide } from '../shared/read-side';

export interface PolicyImpact {
  /** Existing pending/active key links evaluated. */
  evaluated: number;
  keyLinks: number;
  tenants: number;
  findings: LinkFinding[];
}

const LISTED = 50;

/**
 * What a policy (draft, revision or assignment) would make non-compliant among existing key links, from the read
 * models caught up to the head. Used by the what-if simulation and by admission of policy changes.
 */
@Injectable()
export class PolicyImpacts {
  constructor(
    private readonly readSide: ReadSide,
    private readonly facts: Facts,
  ) {}

  /**
   * Guardrails: a document that will apply in tenant scopes must not loosen the global policies in force there
   * (refused with 422 guardrail.loosens naming each guardrail; accepting impact does not override it).
   */
  async assertNoLoosening(policyId: string, document: PolicyDocument, scopes: string[]): Promise<void> {
    const found = [];
    for (const scope of scopes) {
      if (scope === 'global') continue;
      const jurisdiction = isJurisdictionScope(scope) ? undefined : (await this.facts.tenant(scope)).jurisdiction;
      const wider = (await this.facts.policiesAssignedTo(widerScopes(scope, jurisdiction))).filter((p) => p.policyId !== policyId);
      found.push(...looseningsOf(document, wider));
    }
    if (found.length > 0) {
      throw new PolicyViolationError(found.map((f) => ({ rule: f.rule, message: `${f.path}: ${f.message}`, policyId: f.policyId, policyVersion: f.policyVersion })));
    }
  }

  /** Scopes following the policy's latest version, from read models caught up to the head. */
  async scopesFollowing(policyId: string): Promise<string[]> {
    await this.readSide.caughtUp();
    return this.readSide.queries.scopesFollowing(policyId);
  }

  /** `scopes`: 'global' (every tenant) and/or tenant ids. */
  async of(policyId: string, version: number, document: PolicyDocument, scopes: string[]): Promise<PolicyImpact> {
    if (scopes.length === 0) return { evaluated: 0, keyLinks: 0, tenants: 0, findings: [] };
    await this.readSide.caughtUp();
    const links = await this.readSide.queries.linksUnderPolicy(scopes.includes('global') ? undefined : await this.tenantsOf(scopes));
    return PolicyImpacts.ofLinks(policyId, version, document, links);
  }

  /** The same evaluation over links given by the caller (e.g. replayed as of a past time). */
  static ofLinks(policyId: string, version: number, document: PolicyDocument, links: LinkUnderPolicy[]): PolicyImpact {
    const findings = evaluateLinks([{ policyId, version, document }], links);
    return {
      evaluated: links.length,
      keyLinks: new Set(findings.map((f) => f.keyLinkId)).size,
      tenants: new Set(findings.map((f) => f.tenantId)).size,
      findings,
    };
  }

  /** The tenant ids the scopes govern (a jurisdiction scope: every tenant of that jurisdiction). */
  private async tenantsOf(scopes: string[]): Promise<string[]> {
    const jurisdictions = scopes.map(jurisdictionOfScope).filter((j): j is string => j !== undefined);
    const tenants = scopes.filter((s) => !isJurisdictionScope(s));
    return jurisdictions.length > 0 ? [...new Set([...tenants, ...(await this.readSide.queries.tenantIdsIn(jurisdictions))])] : tenants;
  }

  /** Admission of a policy change: refused (422) unless there is no impact or the author accepted it. */
  admit(impact: PolicyImpact, acceptImpact: boolean | undefined): AcceptedImpact | undefined {
    if (impact.keyLinks === 0) return undefined;
    if (acceptImpact) return { keyLinks: impact.keyLinks, tenants: impact.tenants };
    const violations: RuleViolation[] = [
      {
        rule: 'policy.impact',
        message: `this change makes ${impact.keyLinks} existing key links of ${impact.tenants} tenants non-compliant; review them and resend with acceptImpact: true to accept`,
      },
      ...impact.findings.slice(0, LISTED).map((f) => ({ rule: f.rule, message: `key link ${f.keyLinkId} (tenant ${f.tenantId}): ${f.message}`, policyId: f.policyId, policyVersion: f.policyVersion })),
    ];
    throw new PolicyViolationError(violations);
  }
}
