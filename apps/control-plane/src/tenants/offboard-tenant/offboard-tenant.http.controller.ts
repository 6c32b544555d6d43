import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { ReasonRequest } from '../../shared/reason.request.dto';
import { OffboardTenantCommand } from './offboard-tenant.handler';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class OffboardTenantController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':tenantId/offboard')
  @HttpCode(200)
  @Roles(Role.PlatformOperator)
  @ApiOkResponse({ type: CommandResponse })
  async offboard(
    @Param('tenantId', new ParseUUIDPipe()) tenantId: string,
    @Body() body: ReasonRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new OffboardTenantCommand(tenantId, body.reason, ctx)));
  }
}
