import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { tenantDecider, tenantStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { ExecutionContext } from '../../shared/aggregates';
import { ApprovalGate } from '../../approvals/approval-gate';
import { GatedResult } from '../../approvals/approval-pending';
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
export class OffboardTenantHandler implements ICommandHandler<OffboardTenantCommand, GatedResult> {
  constructor(private readonly gate: ApprovalGate, private readonly readSide: ReadSide) {}

  async execute({ tenantId, reason, ctx }: OffboardTenantCommand): Promise<GatedResult> {
    assertTenantAccess(ctx.actor, tenantId);
    await this.readSide.caughtUp();
    const activeKeyLinkIds = await this.readSide.queries.activeKeyLinkIdsOfTenant(tenantId);
    return this.gate.run(
      {
        operation: 'OffboardTenant',
        tenantId,
        target: { tenantId },
        request: { reason },
        stream: tenantStream(tenantId),
        decider: tenantDecider,
        command: { type: 'OffboardTenant', tenantId, reason, activeKeyLinkIds },
      },
      ctx,
    );
  }
}
