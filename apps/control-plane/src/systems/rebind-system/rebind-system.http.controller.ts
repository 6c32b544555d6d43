import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { RebindSystemRequest } from '../register-system/register-system.request.dto';
import { RebindSystemCommand } from './rebind-system.handler';

@ApiTags('systems')
@ApiBearerAuth()
@Controller('v1/systems')
export class RebindSystemController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':systemId/rebind')
  @HttpCode(200)
  @Roles(Role.PlatformOperator, Role.TenantAdmin)
  @ApiOkResponse({ type: CommandResponse })
  async rebind(
    @Param('systemId', new ParseUUIDPipe()) systemId: string,
    @Body() body: RebindSystemRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new RebindSystemCommand(systemId, body.keyLinkId, ctx)));
  }
}
