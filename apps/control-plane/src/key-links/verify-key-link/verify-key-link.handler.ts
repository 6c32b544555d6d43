import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { invalidState, keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { LinkedKeys } from '../providers/linked-keys';
import { proveKey } from '../providers/key-observer';

export class VerifyKeyLinkCommand {
  constructor(readonly keyLinkId: string, readonly ctx: ExecutionContext) {}
}

/** Proves possession again, on demand (after a restore, for an audit): records KeyPossessionProven. */
@CommandHandler(VerifyKeyLinkCommand)
export class VerifyKeyLinkHandler implements ICommandHandler<VerifyKeyLinkCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly links: LinkedKeys) {}

  async execute({ keyLinkId, ctx }: VerifyKeyLinkCommand): Promise<CommandResult> {
    const link = await this.links.load(keyLinkId, ctx.actor);
    if (link.status === 'unlinked') throw invalidState('key-link.unlinked', `key link ${keyLinkId} is unlinked; unlinking is final`, { keyLinkId });
    if (link.mode === 'BYOK' && !link.imported)
      throw invalidState('byok.material-not-imported', `key link ${keyLinkId} is BYOK and its key material has not been imported yet`, { keyLinkId });
    const proof = await proveKey(await this.links.provider(link), link);
    return this.aggregates.execute(keyLinkStream(keyLinkId), keyLinkDecider, { type: 'VerifyKeyLink', keyLinkId, proof }, ctx);
  }
}
