import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';
import { ApprovalGate } from '../../approvals/approval-gate';
import { GatedResult } from '../../approvals/approval-pending';

export class UnlinkKeyCommand {
  constructor(readonly keyLinkId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

/** Final: the link can never be used again. An active link must be revoked first. */
@CommandHandler(UnlinkKeyCommand)
export class UnlinkKeyHandler implements ICommandHandler<UnlinkKeyCommand, GatedResult> {
  constructor(private readonly gate: ApprovalGate, private readonly facts: Facts) {}

  async execute({ keyLinkId, reason, ctx }: UnlinkKeyCommand): Promise<GatedResult> {
    const link = await this.facts.keyLink(keyLinkId);
    return this.gate.run(
      {
        operation: 'UnlinkKey',
        tenantId: link.exists ? link.tenantId : undefined,
        target: { keyLinkId },
        request: { reason },
        stream: keyLinkStream(keyLinkId),
        decider: keyLinkDecider,
        command: (state) => {
          if (state.exists) assertTenantAccess(ctx.actor, state.tenantId);
          return { type: 'UnlinkKey' as const, keyLinkId, reason: reason as string };
        },
      },
      ctx,
    );
  }
}
