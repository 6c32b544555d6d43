import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { ReasonRequest } from '../../shared/reason.request.dto';
import { DeregisterSystemCommand } from './deregister-system.handler';

@ApiTags('systems')
@ApiBearerAuth()
@Controller('v1/systems')
export class DeregisterSystemController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':systemId/deregister')
  @HttpCode(200)
  @Roles(Role.PlatformOperator, Role.TenantAdmin)
  @ApiOkResponse({ type: CommandResponse })
  async deregister(
    @Param('systemId', new ParseUUIDPipe()) systemId: string,
    @Body() body: ReasonRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new DeregisterSystemCommand(systemId, body.reason, ctx)));
  }
}
