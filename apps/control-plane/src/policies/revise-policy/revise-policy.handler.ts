import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyDecider, policyStream } from '@cmk/domain';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { RevisePolicyRequest } from '../define-policy/define-policy.request.dto';

export class RevisePolicyCommand {
  constructor(readonly policyId: string, readonly request: RevisePolicyRequest, readonly ctx: ExecutionContext) {}
}

/** Every change is a new version; old versions stay readable for audit and time travel. */
@CommandHandler(RevisePolicyCommand)
export class RevisePolicyHandler implements ICommandHandler<RevisePolicyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ policyId, request, ctx }: RevisePolicyCommand): Promise<CommandResult> {
    return this.aggregates.execute(policyStream(policyId), policyDecider, { type: 'RevisePolicy', policyId, ...request }, ctx);
  }
}
