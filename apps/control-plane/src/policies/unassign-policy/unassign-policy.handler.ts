import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyScopeDecider, policyScopeStream } from '@cmk/domain';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';
import { requireScope } from '../assign-policy/assign-policy.handler';

export class UnassignPolicyCommand {
  constructor(readonly policyId: string, readonly scope: string, readonly ctx: ExecutionContext) {}
}

@CommandHandler(UnassignPolicyCommand)
export class UnassignPolicyHandler implements ICommandHandler<UnassignPolicyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts) {}

  async execute({ policyId, scope, ctx }: UnassignPolicyCommand): Promise<CommandResult> {
    await requireScope(scope, this.facts, ctx);
    return this.aggregates.execute(policyScopeStream(scope), policyScopeDecider, { type: 'UnassignPolicy', scope, policyId }, ctx);
  }
}
