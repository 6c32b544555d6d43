import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import type { KeyImportParametersIssued } from '@cmk/domain';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { CommandResult, ExecutionContext } from '../../shared/aggregates';
import { ImportKeyMaterialCommand } from './import-key-material.handler';
import { ImportKeyMaterialRequest, ImportParametersRequest, ImportParametersResponse } from './import-key-material.request.dto';
import { IssueImportParametersCommand } from './issue-import-parameters.handler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class ImportKeyMaterialController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyLinkId/import-parameters')
  @HttpCode(201)
  @Roles(Role.KeyAdmin, Role.TenantAdmin)
  @ApiOperation({ summary: 'BYOK: get a wrapping public key and an import token from the provider for this link' })
  @ApiCreatedResponse({ type: ImportParametersResponse })
  async parameters(
    @Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string,
    @Body() body: ImportParametersRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ImportParametersResponse> {
    const result: CommandResult = await this.commands.execute(new IssueImportParametersCommand(keyLinkId, body, ctx));
    respond(res, result);
    const issued = result.events.find((e) => e.type === 'KeyImportParametersIssued')!.data as KeyImportParametersIssued['data'];
    const { importToken, wrappingAlgorithm, wrappingKeySpec, publicKeyPem, publicKeyFingerprint, expiresAt } = issued;
    return { keyLinkId, importToken, wrappingAlgorithm, wrappingKeySpec, publicKeyPem, publicKeyFingerprint, expiresAt, position: result.position };
  }

  @Post(':keyLinkId/import')
  @HttpCode(200)
  @Roles(Role.KeyAdmin, Role.TenantAdmin)
  @ApiOperation({ summary: 'BYOK: import key material wrapped offline under the import parameters; records its fingerprint, never the material' })
  @ApiOkResponse({ type: CommandResponse })
  async import(
    @Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string,
    @Body() body: ImportKeyMaterialRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new ImportKeyMaterialCommand(keyLinkId, body, ctx)));
  }
}
