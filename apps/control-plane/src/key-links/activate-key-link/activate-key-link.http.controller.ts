import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { OptionalReasonRequest } from '../../shared/reason.request.dto';
import { ActivateKeyLinkCommand } from './activate-key-link.handler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class ActivateKeyLinkController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyLinkId/activate')
  @HttpCode(200)
  @Roles(Role.KeyAdmin, Role.PlatformOperator)
  @ApiOkResponse({ type: CommandResponse })
  async activate(
    @Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string,
    @Body() body: OptionalReasonRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new ActivateKeyLinkCommand(keyLinkId, body.reason, ctx)));
  }
}
