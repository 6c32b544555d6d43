import { Body, Controller, Param, ParseUUIDPipe, Patch, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { UpdateTenantCommand } from './update-tenant.handler';
import { UpdateTenantRequest } from './update-tenant.request.dto';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class UpdateTenantController {
  constructor(private readonly commands: CommandBus) {}

  @Patch(':tenantId')
  @Roles(Role.PlatformOperator, Role.TenantAdmin)
  @ApiHeader({ name: 'If-Match', required: false, description: 'ETag (stream revision) the change is based on' })
  @ApiOkResponse({ type: CommandResponse })
  async update(
    @Param('tenantId', new ParseUUIDPipe()) tenantId: string,
    @Body() body: UpdateTenantRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new UpdateTenantCommand(tenantId, body, ctx)));
  }
}
