import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { VerifyKeyLinkCommand } from './verify-key-link.handler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class VerifyKeyLinkController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyLinkId/verify')
  @HttpCode(200)
  @Roles(Role.KeyAdmin, Role.PlatformOperator, Role.SecurityOfficer)
  @ApiOperation({ summary: 'Prove possession of the linked key now (a fresh challenge through the provider); records KeyPossessionProven' })
  @ApiOkResponse({ type: CommandResponse })
  async verify(@Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string, @CommandCtx() ctx: ExecutionContext, @Res({ passthrough: true }) res: Response): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new VerifyKeyLinkCommand(keyLinkId, ctx)));
  }
}
