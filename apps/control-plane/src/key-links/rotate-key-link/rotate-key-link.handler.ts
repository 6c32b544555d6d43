import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { invalidState, keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { LinkedKeys } from '../providers/linked-keys';

export class RotateKeyLinkCommand {
  constructor(readonly keyLinkId: string, readonly ctx: ExecutionContext) {}
}

/**
 * Asks the provider for a new version of the linked key (L1 rotation where the provider allows it). Data wrapped
 * under earlier versions still unwraps; the new version and fingerprint are recorded. Providers that cannot rotate
 * answer with unsupported-operation (422), and nothing is recorded.
 */
@CommandHandler(RotateKeyLinkCommand)
export class RotateKeyLinkHandler implements ICommandHandler<RotateKeyLinkCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly links: LinkedKeys) {}

  async execute({ keyLinkId, ctx }: RotateKeyLinkCommand): Promise<CommandResult> {
    const link = await this.links.load(keyLinkId, ctx.actor);
    if (link.status !== 'active' && link.status !== 'pending')
      throw invalidState('key-link.not-rotatable', `key link ${keyLinkId} is ${link.status}; only pending or active links rotate`, { keyLinkId, status: link.status });
    const rotated = await (await this.links.provider(link)).rotateKey(link.keyReference);
    return this.aggregates.execute(
      keyLinkStream(keyLinkId),
      keyLinkDecider,
      { type: 'RecordKeyRotation', keyLinkId, fingerprint: rotated.fingerprint, keyVersion: rotated.version ?? rotated.fingerprint },
      ctx,
    );
  }
}
