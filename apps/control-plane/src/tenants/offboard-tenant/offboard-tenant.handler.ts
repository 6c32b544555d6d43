import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { tenantDecider, tenantStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { ReadSide } from '../../shared/read-side';

export class OffboardTenantCommand {
  constructor(readonly tenantId: string, readonly reason: string, readonly ctx: ExecutionContext) {}
}

/**
 * Offboarding is final, so it is refused while the tenant holds an active link. The link list comes from the
 * read model caught up to the head of the store. A link activated concurrently cannot serve an offboarded
 * tenant: activation and restore re-check the tenant, and workers deny every key of an offboarded tenant.
 */
@CommandHandler(OffboardTenantCommand)
export class OffboardTenantHandler implements ICommandHandler<OffboardTenantCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly readSide: ReadSide) {}

  async execute({ tenantId, reason, ctx }: OffboardTenantCommand): Promise<CommandResult> {
    assertTenantAccess(ctx.actor, tenantId);
    await this.readSide.caughtUp();
    const activeKeyLinkIds = await this.readSide.queries.activeKeyLinkIdsOfTenant(tenantId);
    return this.aggregates.execute(tenantStream(tenantId), tenantDecider, { type: 'OffboardTenant', tenantId, reason, activeKeyLinkIds }, ctx);
  }
}
