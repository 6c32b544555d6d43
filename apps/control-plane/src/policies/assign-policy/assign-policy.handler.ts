import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { invalid, isJurisdictionScope, jurisdictionOfScope, JURISDICTIONS, policyDecider, policyScopeDecider, policyScopeStream, policyStream } from '@cmk/domain';
import { assertTenantAccess, TenantAccessDenied } from '@cmk/auth';
import { Aggregates, ExecutionContext } from '../../shared/aggregates';
import { ApprovalGate } from '../../approvals/approval-gate';
import { GatedResult } from '../../approvals/approval-pending';
import { Facts } from '../../shared/facts';
import { PolicyImpacts } from '../policy-impact';

export class AssignPolicyCommand {
  constructor(
    readonly policyId: string,
    readonly scope: string,
    readonly version: number | undefined,
    readonly ctx: ExecutionContext,
    readonly acceptImpact?: boolean,
  ) {}
}

/** A tenant scope is the tenant's id. */
export const TENANT_SCOPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Assigns a policy globally or to one tenant (which must exist). The assignment is evaluated against the key
 * links it would govern; non-compliance is refused unless the author accepts it (then recorded in the event).
 */
@CommandHandler(AssignPolicyCommand)
export class AssignPolicyHandler implements ICommandHandler<AssignPolicyCommand, GatedResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts, private readonly impacts: PolicyImpacts, private readonly gate: ApprovalGate) {}

  async execute({ policyId, scope, version, ctx, acceptImpact }: AssignPolicyCommand): Promise<GatedResult> {
    await requireScope(scope, this.facts, ctx);
    const policy = await this.facts.policy(policyId);
    let acceptedImpact;
    if (policy.exists) {
      const { state } = await this.aggregates.load(policyStream(policyId), policyDecider);
      const assigned = state.exists ? state.versions.find((v) => v.version === (version ?? policy.latestVersion)) : undefined;
      if (assigned) {
        await this.impacts.assertNoLoosening(policyId, assigned.document, [scope]);
        acceptedImpact = this.impacts.admit(await this.impacts.of(policyId, assigned.version, assigned.document, [scope]), acceptImpact);
      }
    }
    return this.gate.run(
      {
        operation: 'AssignPolicy',
        ...governedScope(scope),
        target: { policyId, scope },
        request: { scope, version, acceptImpact },
        stream: policyScopeStream(scope),
        decider: policyScopeDecider,
        command: { type: 'AssignPolicy', scope, policyId, policy, version, acceptedImpact },
      },
      ctx,
    );
  }
}

/** Whose policies decide whether changing a scope's assignments needs approval, and whose approvers count. */
export function governedScope(scope: string): { tenantId: string } | { scopes: string[] } {
  if (TENANT_SCOPE.test(scope)) return { tenantId: scope };
  return { scopes: scope === 'global' ? ['global'] : ['global', scope] };
}

export async function requireScope(scope: string, facts: Facts, ctx: ExecutionContext): Promise<void> {
  if (scope === 'global') return;
  if (isJurisdictionScope(scope)) {
    if (!jurisdictionOfScope(scope)) throw invalid('policy.scope', `${scope} names no known jurisdiction (${JURISDICTIONS.join(', ')})`, { field: 'scope' });
    // A jurisdiction spans tenants: only platform-wide callers may govern it.
    if (ctx.actor.tenantScope !== undefined) throw new TenantAccessDenied(scope);
    return;
  }
  if (!TENANT_SCOPE.test(scope)) throw invalid('policy.scope', 'scope must be "global", "jurisdiction:<code>" or a tenant id', { field: 'scope' });
  assertTenantAccess(ctx.actor, scope);
  const tenant = await facts.tenant(scope);
  if (tenant.fact === 'missing') throw invalid('policy.scope', `scope names tenant ${scope}, which does not exist`, { field: 'scope' });
}
