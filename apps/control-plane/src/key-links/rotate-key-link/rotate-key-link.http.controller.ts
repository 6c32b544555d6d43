import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { RotateKeyLinkCommand } from './rotate-key-link.handler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class RotateKeyLinkController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyLinkId/rotate')
  @HttpCode(200)
  @Roles(Role.KeyAdmin)
  @ApiOperation({ summary: 'Rotate the linked key at its provider (a new version; earlier versions still unwrap)' })
  @ApiOkResponse({ type: CommandResponse })
  async rotate(@Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string, @CommandCtx() ctx: ExecutionContext, @Res({ passthrough: true }) res: Response): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new RotateKeyLinkCommand(keyLinkId, ctx)));
  }
}
