import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { RegisterSystemCommand } from './register-system.handler';
import { RegisterSystemRequest } from './register-system.request.dto';

@ApiTags('systems')
@ApiBearerAuth()
@Controller('v1/tenants')
export class RegisterSystemController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':tenantId/systems')
  @HttpCode(201)
  @Roles(Role.PlatformOperator, Role.TenantAdmin)
  @ApiCreatedResponse({ type: CommandResponse })
  async register(
    @Param('tenantId', new ParseUUIDPipe()) tenantId: string,
    @Body() body: RegisterSystemRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    const out = respond(res, await this.commands.execute(new RegisterSystemCommand(tenantId, body, ctx)));
    res.setHeader('Location', `/v1/systems/${out.id}`);
    return out;
  }
}
