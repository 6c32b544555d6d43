import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { keyLinkDecider, keyLinkStream, PossessionProof } from '@cmk/domain';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';
import { LinkedKeys } from '../providers/linked-keys';
import { proveKey } from '../providers/key-observer';

export class ActivateKeyLinkCommand {
  constructor(readonly keyLinkId: string, readonly reason: string | undefined, readonly ctx: ExecutionContext) {}
}

/**
 * A link becomes active only after proof of possession: a fresh challenge through the customer's key, taken here
 * just before the append. Activation re-checks the tenant: an offboarded or suspended tenant's link never
 * becomes active. The provider is asked only when the link could be activated at all.
 */
@CommandHandler(ActivateKeyLinkCommand)
export class ActivateKeyLinkHandler implements ICommandHandler<ActivateKeyLinkCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts, private readonly links: LinkedKeys) {}

  async execute({ keyLinkId, ctx }: ActivateKeyLinkCommand): Promise<CommandResult> {
    const link = await this.links.load(keyLinkId, ctx.actor);
    const tenant = (await this.facts.tenant(link.tenantId)).fact;
    let proof: PossessionProof | undefined;
    const activatable = link.status === 'pending' && tenant === 'active' && (link.mode === 'HYOK' || link.imported);
    if (activatable) proof = await proveKey(await this.links.provider(link), link);
    return this.aggregates.execute(keyLinkStream(keyLinkId), keyLinkDecider, { type: 'ActivateKeyLink', keyLinkId, tenant, proof }, ctx);
  }
}
