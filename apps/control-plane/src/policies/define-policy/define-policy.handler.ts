import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { policyDecider, policyStream } from '@cmk/domain';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { DefinePolicyRequest } from './define-policy.request.dto';

export class DefinePolicyCommand {
  constructor(readonly request: DefinePolicyRequest, readonly ctx: ExecutionContext) {}
}

@CommandHandler(DefinePolicyCommand)
export class DefinePolicyHandler implements ICommandHandler<DefinePolicyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ request, ctx }: DefinePolicyCommand): Promise<CommandResult> {
    const policyId = request.policyId ?? randomUUID();
    return this.aggregates.execute(policyStream(policyId), policyDecider, { type: 'DefinePolicy', ...request, policyId }, ctx);
  }
}
