import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { invalid, policyScopeDecider, policyScopeStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';

export class AssignPolicyCommand {
  constructor(readonly policyId: string, readonly scope: string, readonly version: number | undefined, readonly ctx: ExecutionContext) {}
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Assigns a policy globally or to one tenant (which must exist). */
@CommandHandler(AssignPolicyCommand)
export class AssignPolicyHandler implements ICommandHandler<AssignPolicyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts) {}

  async execute({ policyId, scope, version, ctx }: AssignPolicyCommand): Promise<CommandResult> {
    await requireScope(scope, this.facts, ctx);
    const policy = await this.facts.policy(policyId);
    return this.aggregates.execute(policyScopeStream(scope), policyScopeDecider, { type: 'AssignPolicy', scope, policyId, policy, version }, ctx);
  }
}

export async function requireScope(scope: string, facts: Facts, ctx: ExecutionContext): Promise<void> {
  if (scope === 'global') return;
  if (!UUID.test(scope)) throw invalid('policy.scope', 'scope must be "global" or a tenant id', { field: 'scope' });
  assertTenantAccess(ctx.actor, scope);
  const tenant = await facts.tenant(scope);
  if (tenant.fact === 'missing') throw invalid('policy.scope', `scope names tenant ${scope}, which does not exist`, { field: 'scope' });
}
