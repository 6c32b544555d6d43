import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyScopeDecider, policyScopeStream } from '@cmk/domain';
import { ExecutionContext } from '../../shared/aggregates';
import { ApprovalGate } from '../../approvals/approval-gate';
import { GatedResult } from '../../approvals/approval-pending';
import { Facts } from '../../shared/facts';
import { governedScope, requireScope } from '../assign-policy/assign-policy.handler';

export class UnassignPolicyCommand {
  constructor(readonly policyId: string, readonly scope: string, readonly ctx: ExecutionContext) {}
}

@CommandHandler(UnassignPolicyCommand)
export class UnassignPolicyHandler implements ICommandHandler<UnassignPolicyCommand, GatedResult> {
  constructor(private readonly gate: ApprovalGate, private readonly facts: Facts) {}

  async execute({ policyId, scope, ctx }: UnassignPolicyCommand): Promise<GatedResult> {
    await requireScope(scope, this.facts, ctx);
    return this.gate.run(
      {
        operation: 'UnassignPolicy',
        ...governedScope(scope),
        target: { policyId, scope },
        request: {},
        stream: policyScopeStream(scope),
        decider: policyScopeDecider,
        command: { type: 'UnassignPolicy', scope, policyId },
      },
      ctx,
    );
  }
}
