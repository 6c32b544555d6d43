import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';

export class RotateTenantKeyCommand {
  constructor(readonly keyLinkId: string, readonly ctx: ExecutionContext) {}
}

/**
 * L2 rotation: records the request on the link; the workers then seal new data keys under the next L2 version
 * only (the first one registered for it), while earlier versions keep opening the blobs made under them. No
 * provider call here: the L1 key is untouched, and no key material passes through the control plane.
 */
@CommandHandler(RotateTenantKeyCommand)
export class RotateTenantKeyHandler implements ICommandHandler<RotateTenantKeyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ keyLinkId, ctx }: RotateTenantKeyCommand): Promise<CommandResult> {
    return this.aggregates.execute(
      keyLinkStream(keyLinkId),
      keyLinkDecider,
      (state) => {
        if (state.exists) assertTenantAccess(ctx.actor, state.tenantId);
        return { type: 'RotateTenantKey' as const, keyLinkId };
      },
      ctx,
    );
  }
}
