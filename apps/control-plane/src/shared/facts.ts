import { Injectable } from '@nestjs/common';
import {
  KeyLinkFact,
  keyLinkDecider,
  keyLinkStream,
  latestVersion,
  PolicyFact,
  policyDecider,
  policyScopeDecider,
  policyScopeStream,
  policyStream,
  TenantFact,
  scopesGoverning,
  tenantDecider,
  tenantStream,
} from '@cmk/domain';
import type { PolicyInForce } from '@cmk/policy';
import { Aggregates } from './aggregates';

/**
 * Facts other aggregates' deciders need, read from the event store itself (not from read models), so a
 * decision never rests on a projection that lags.
 */
@Injectable()
export class Facts {
  constructor(private readonly aggregates: Aggregates) {}

  async tenant(tenantId: string): Promise<{ fact: TenantFact; jurisdiction?: string }> {
    const { state } = await this.aggregates.load(tenantStream(tenantId), tenantDecider);
    return state.exists ? { fact: state.status, jurisdiction: state.jurisdiction } : { fact: 'missing' };
  }

  async keyLink(keyLinkId: string): Promise<KeyLinkFact> {
    const { state } = await this.aggregates.load(keyLinkStream(keyLinkId), keyLinkDecider);
    return state.exists ? { exists: true, tenantId: state.tenantId, status: state.status } : { exists: false };
  }

  async policy(policyId: string): Promise<PolicyFact> {
    const { state } = await this.aggregates.load(policyStream(policyId), policyDecider);
    return state.exists ? { exists: true, latestVersion: latestVersion(state) } : { exists: false };
  }

  /** Policies in force for a tenant: those assigned globally plus those assigned to the tenant. */
  /** Global, the tenant's jurisdiction, the tenant's own: every policy that governs it. */
  async policiesInForce(tenantId: string): Promise<PolicyInForce[]> {
    const { jurisdiction } = await this.tenant(tenantId);
    return this.policiesAssignedTo(scopesGoverning(tenantId, jurisdiction));
  }

  /** The policies assigned in the given scopes, at their pinned or latest version. */
  async policiesAssignedTo(scopeNames: string[]): Promise<PolicyInForce[]> {
    const scopes = await Promise.all(scopeNames.map((scope) => this.aggregates.load(policyScopeStream(scope), policyScopeDecider)));
    const assignments = scopes.flatMap((s) => Object.entries(s.state.assignments));
    const loaded = await Promise.all(
      assignments.map(async ([policyId, pinned]) => {
        const { state } = await this.aggregates.load(policyStream(policyId), policyDecider);
        if (!state.exists) return undefined;
        const version = pinned === 'latest' ? latestVersion(state) : pinned;
        const v = state.versions.find((x) => x.version === version);
        return v ? { policyId, version, document: v.document } : undefined;
      }),
    );
    return loaded.filter((p): p is PolicyInForce => p !== undefined);
  }
}
