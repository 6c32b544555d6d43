import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { policyDecider, policyStream } from '@cmk/domain';
import { ExecutionContext } from '../../shared/aggregates';
import { ApprovalGate } from '../../approvals/approval-gate';
import { GatedResult } from '../../approvals/approval-pending';
import { DefinePolicyRequest } from './define-policy.request.dto';

export class DefinePolicyCommand {
  constructor(readonly request: DefinePolicyRequest, readonly ctx: ExecutionContext) {}
}

@CommandHandler(DefinePolicyCommand)
export class DefinePolicyHandler implements ICommandHandler<DefinePolicyCommand, GatedResult> {
  constructor(private readonly gate: ApprovalGate) {}

  async execute({ request, ctx }: DefinePolicyCommand): Promise<GatedResult> {
    const policyId = request.policyId ?? randomUUID();
    // A new policy governs nothing yet: the platform-wide policies decide whether defining it needs approval.
    return this.gate.run(
      {
        operation: 'DefinePolicy',
        target: { policyId },
        request: { ...request, policyId },
        stream: policyStream(policyId),
        decider: policyDecider,
        command: { type: 'DefinePolicy', ...request, policyId },
      },
      ctx,
    );
  }
}
