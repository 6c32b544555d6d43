import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';

export class ActivateKeyLinkCommand {
  constructor(readonly keyLinkId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

/** Activation re-checks the tenant: an offboarded or suspended tenant's link never becomes active. */
@CommandHandler(ActivateKeyLinkCommand)
export class ActivateKeyLinkHandler implements ICommandHandler<ActivateKeyLinkCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts) {}

  async execute({ keyLinkId, reason, ctx }: ActivateKeyLinkCommand): Promise<CommandResult> {
    const link = await this.facts.keyLink(keyLinkId);
    if (link.exists) assertTenantAccess(ctx.actor, link.tenantId);
    const tenant = link.exists ? (await this.facts.tenant(link.tenantId)).fact : 'missing';
    return this.aggregates.execute(keyLinkStream(keyLinkId), keyLinkDecider, { type: 'ActivateKeyLink', keyLinkId, tenant }, ctx);
  }
}
