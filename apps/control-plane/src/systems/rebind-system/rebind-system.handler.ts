import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { systemDecider, systemStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';

export class RebindSystemCommand {
  constructor(readonly systemId: string, readonly keyLinkId: string, readonly ctx: ExecutionContext) {}
}

/** Moves a system to another of its tenant's links; the decider refuses links of other tenants. */
@CommandHandler(RebindSystemCommand)
export class RebindSystemHandler implements ICommandHandler<RebindSystemCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts) {}

  async execute({ systemId, keyLinkId, ctx }: RebindSystemCommand): Promise<CommandResult> {
    const keyLink = await this.facts.keyLink(keyLinkId);
    return this.aggregates.execute(
      systemStream(systemId),
      systemDecider,
      (state) => {
        if (state.exists) assertTenantAccess(ctx.actor, state.tenantId);
        return { type: 'RebindSystem' as const, systemId, keyLinkId, keyLink };
      },
      ctx,
    );
  }
}
