import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { checkAwaitsImport, keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { publicKeyFingerprint } from '@cmk/key-providers';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { LinkedKeys } from '../providers/linked-keys';
import { ImportParametersRequest } from './import-key-material.request.dto';

export class IssueImportParametersCommand {
  constructor(readonly keyLinkId: string, readonly request: ImportParametersRequest, readonly ctx: ExecutionContext) {}
}

/** BYOK step 1: the provider makes a wrapping key for this link; its public half and expiry are recorded. */
@CommandHandler(IssueImportParametersCommand)
export class IssueImportParametersHandler implements ICommandHandler<IssueImportParametersCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly links: LinkedKeys) {}

  async execute({ keyLinkId, request, ctx }: IssueImportParametersCommand): Promise<CommandResult> {
    const link = await this.links.load(keyLinkId, ctx.actor);
    // Checked before the provider is asked, so a wrong request creates nothing at the provider.
    checkAwaitsImport(link);
    const params = await (await this.links.provider(link)).getImportParameters(link.keyReference, request);
    return this.aggregates.execute(
      keyLinkStream(keyLinkId),
      keyLinkDecider,
      {
        type: 'IssueImportParameters',
        keyLinkId,
        importToken: params.importToken,
        wrappingAlgorithm: params.wrappingAlgorithm,
        wrappingKeySpec: params.wrappingKeySpec,
        publicKeyPem: params.publicKeyPem,
        publicKeyFingerprint: publicKeyFingerprint(params.publicKeyPem),
        expiresAt: params.expiresAt.toISOString(),
      },
      ctx,
    );
  }
}
