import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { tenantDecider, tenantStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';

export class ResumeTenantCommand {
  constructor(readonly tenantId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

@CommandHandler(ResumeTenantCommand)
export class ResumeTenantHandler implements ICommandHandler<ResumeTenantCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ tenantId, reason, ctx }: ResumeTenantCommand): Promise<CommandResult> {
    assertTenantAccess(ctx.actor, tenantId);
    return this.aggregates.execute(tenantStream(tenantId), tenantDecider, { type: 'ResumeTenant', tenantId, reason: reason as string }, ctx);
  }
}
