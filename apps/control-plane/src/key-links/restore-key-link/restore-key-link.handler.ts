import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { ExecutionContext } from '../../shared/aggregates';
import { ApprovalGate } from '../../approvals/approval-gate';
import { GatedResult } from '../../approvals/approval-pending';
import { Facts } from '../../shared/facts';

export class RestoreKeyLinkCommand {
  constructor(readonly keyLinkId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

/** The only way back from a revocation; it re-checks the tenant. Resuming must be hard: policy may hold it for approval. */
@CommandHandler(RestoreKeyLinkCommand)
export class RestoreKeyLinkHandler implements ICommandHandler<RestoreKeyLinkCommand, GatedResult> {
  constructor(private readonly gate: ApprovalGate, private readonly facts: Facts) {}

  async execute({ keyLinkId, reason, ctx }: RestoreKeyLinkCommand): Promise<GatedResult> {
    const link = await this.facts.keyLink(keyLinkId);
    if (link.exists) assertTenantAccess(ctx.actor, link.tenantId);
    const tenant = link.exists ? (await this.facts.tenant(link.tenantId)).fact : 'missing';
    return this.gate.run(
      {
        operation: 'RestoreKeyLink',
        tenantId: link.exists ? link.tenantId : undefined,
        target: { keyLinkId },
        request: { reason },
        stream: keyLinkStream(keyLinkId),
        decider: keyLinkDecider,
        command: { type: 'RestoreKeyLink', keyLinkId, reason: reason as string, tenant },
      },
      ctx,
    );
  }
}
