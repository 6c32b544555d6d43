import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { ReasonRequest } from '../../shared/reason.request.dto';
import { RevokeKeyLinkCommand } from './revoke-key-link.handler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class RevokeKeyLinkController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyLinkId/revoke')
  @HttpCode(200)
  @Roles(Role.SecurityOfficer, Role.KeyAdmin, Role.TenantAdmin)
  @ApiOkResponse({ type: CommandResponse })
  async revoke(
    @Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string,
    @Body() body: ReasonRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new RevokeKeyLinkCommand(keyLinkId, body.reason, ctx)));
  }
}
