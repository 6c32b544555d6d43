import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';

export class RestoreKeyLinkCommand {
  constructor(readonly keyLinkId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

/** The only way back from a revocation; it re-checks the tenant. */
@CommandHandler(RestoreKeyLinkCommand)
export class RestoreKeyLinkHandler implements ICommandHandler<RestoreKeyLinkCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts) {}

  async execute({ keyLinkId, reason, ctx }: RestoreKeyLinkCommand): Promise<CommandResult> {
    const link = await this.facts.keyLink(keyLinkId);
    if (link.exists) assertTenantAccess(ctx.actor, link.tenantId);
    const tenant = link.exists ? (await this.facts.tenant(link.tenantId)).fact : 'missing';
    return this.aggregates.execute(keyLinkStream(keyLinkId), keyLinkDecider, { type: 'RestoreKeyLink', keyLinkId, reason: reason as string, tenant }, ctx);
  }
}
