import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { tenantDecider, tenantStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { OnboardTenantRequest } from './onboard-tenant.request.dto';

export class OnboardTenantCommand {
  constructor(readonly request: OnboardTenantRequest, readonly ctx: ExecutionContext) {}
}

@CommandHandler(OnboardTenantCommand)
export class OnboardTenantHandler implements ICommandHandler<OnboardTenantCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ request, ctx }: OnboardTenantCommand): Promise<CommandResult> {
    const tenantId = request.tenantId ?? randomUUID();
    assertTenantAccess(ctx.actor, tenantId);
    return this.aggregates.execute(tenantStream(tenantId), tenantDecider, { type: 'OnboardTenant', ...request, tenantId }, ctx);
  }
}
