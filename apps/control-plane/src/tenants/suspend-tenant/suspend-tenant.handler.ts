import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { tenantDecider, tenantStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';

export class SuspendTenantCommand {
  constructor(readonly tenantId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

@CommandHandler(SuspendTenantCommand)
export class SuspendTenantHandler implements ICommandHandler<SuspendTenantCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ tenantId, reason, ctx }: SuspendTenantCommand): Promise<CommandResult> {
    assertTenantAccess(ctx.actor, tenantId);
    return this.aggregates.execute(tenantStream(tenantId), tenantDecider, { type: 'SuspendTenant', tenantId, reason: reason as string }, ctx);
  }
}
