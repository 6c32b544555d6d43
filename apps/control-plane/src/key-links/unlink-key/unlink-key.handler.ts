import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';

export class UnlinkKeyCommand {
  constructor(readonly keyLinkId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

/** Final: the link can never be used again. An active link must be revoked first. */
@CommandHandler(UnlinkKeyCommand)
export class UnlinkKeyHandler implements ICommandHandler<UnlinkKeyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ keyLinkId, reason, ctx }: UnlinkKeyCommand): Promise<CommandResult> {
    return this.aggregates.execute(
      keyLinkStream(keyLinkId),
      keyLinkDecider,
      (state) => {
        if (state.exists) assertTenantAccess(ctx.actor, state.tenantId);
        return { type: 'UnlinkKey' as const, keyLinkId, reason: reason as string };
      },
      ctx,
    );
  }
}
