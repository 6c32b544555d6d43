import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { checkImport, keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { LinkedKeys } from '../providers/linked-keys';
import { ImportKeyMaterialRequest } from './import-key-material.request.dto';

export class ImportKeyMaterialCommand {
  constructor(readonly keyLinkId: string, readonly request: ImportKeyMaterialRequest, readonly ctx: ExecutionContext) {}
}

/**
 * BYOK step 2: the wrapped material goes to the provider, which unwraps it inside its boundary. CMK checks first
 * that the import token was issued for this link and has not expired, then records the provider's fingerprint of
 * the imported key. The wrapped blob itself is not recorded.
 */
@CommandHandler(ImportKeyMaterialCommand)
export class ImportKeyMaterialHandler implements ICommandHandler<ImportKeyMaterialCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly links: LinkedKeys) {}

  async execute({ keyLinkId, request, ctx }: ImportKeyMaterialCommand): Promise<CommandResult> {
    const link = await this.links.load(keyLinkId, ctx.actor);
    checkImport(link, request.importToken, new Date().toISOString());
    const wrappedKeyMaterial = Buffer.from(request.wrappedKeyMaterial, 'base64');
    const described = await (await this.links.provider(link)).importKeyMaterial(link.keyReference, {
      importToken: request.importToken,
      wrappingAlgorithm: request.wrappingAlgorithm,
      wrappedKeyMaterial,
    });
    return this.aggregates.execute(
      keyLinkStream(keyLinkId),
      keyLinkDecider,
      {
        type: 'RecordKeyMaterialImport',
        keyLinkId,
        importToken: request.importToken,
        algorithm: described.algorithm,
        sizeBits: described.sizeBits,
        fingerprint: described.fingerprint,
        ...(described.version ? { keyVersion: described.version } : {}),
        now: new Date().toISOString(),
      },
      ctx,
    );
  }
}
