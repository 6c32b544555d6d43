import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';

export class RevokeKeyLinkCommand {
  constructor(readonly keyLinkId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

/** The kill switch: allowed for any pending or active link, idempotent, and never lost to a race. */
@CommandHandler(RevokeKeyLinkCommand)
export class RevokeKeyLinkHandler implements ICommandHandler<RevokeKeyLinkCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ keyLinkId, reason, ctx }: RevokeKeyLinkCommand): Promise<CommandResult> {
    return this.aggregates.execute(
      keyLinkStream(keyLinkId),
      keyLinkDecider,
      (state) => {
        if (state.exists) assertTenantAccess(ctx.actor, state.tenantId);
        return { type: 'RevokeKeyLink' as const, keyLinkId, reason: reason as string };
      },
      ctx,
      // The kill switch must not fail because someone else wrote first: re-decide on the newest state.
      { retryOnConflict: true },
    );
  }
}
