import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';

/** What the rotation scheduler adds: the version it found due, and the age and policy that made it due. */
export interface ScheduledTenantKeyRotation {
  fromVersion: number;
  maxAgeDays: number;
  policy: { policyId: string; version: number };
}

export class RotateTenantKeyCommand {
  constructor(readonly keyLinkId: string, readonly ctx: ExecutionContext, readonly scheduled?: ScheduledTenantKeyRotation) {}
}

/**
 * L2 rotation: records the request on the link; the workers then seal new data keys under the next L2 version
 * only (the first one registered for it), while earlier versions keep opening the blobs made under them. No
 * provider call here: the L1 key is untouched, and no key material passes through the control plane.
 */
@CommandHandler(RotateTenantKeyCommand)
export class RotateTenantKeyHandler implements ICommandHandler<RotateTenantKeyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ keyLinkId, ctx, scheduled }: RotateTenantKeyCommand): Promise<CommandResult> {
    return this.aggregates.execute(
      keyLinkStream(keyLinkId),
      keyLinkDecider,
      (state) => {
        if (state.exists) assertTenantAccess(ctx.actor, state.tenantId);
        return { type: 'RotateTenantKey' as const, keyLinkId, ...scheduled };
      },
      ctx,
    );
  }
}
