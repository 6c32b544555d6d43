import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { tenantDecider, tenantStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { UpdateTenantRequest } from './update-tenant.request.dto';

export class UpdateTenantCommand {
  constructor(readonly tenantId: string, readonly request: UpdateTenantRequest, readonly ctx: ExecutionContext) {}
}

@CommandHandler(UpdateTenantCommand)
export class UpdateTenantHandler implements ICommandHandler<UpdateTenantCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ tenantId, request, ctx }: UpdateTenantCommand): Promise<CommandResult> {
    assertTenantAccess(ctx.actor, tenantId);
    return this.aggregates.execute(tenantStream(tenantId), tenantDecider, { type: 'UpdateTenant', tenantId, ...request }, ctx);
  }
}
