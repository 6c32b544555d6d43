import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { OnboardTenantCommand } from './onboard-tenant.handler';
import { OnboardTenantRequest } from './onboard-tenant.request.dto';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class OnboardTenantController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @Roles(Role.PlatformOperator)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: CommandResponse })
  async onboard(@Body() body: OnboardTenantRequest, @CommandCtx() ctx: ExecutionContext, @Res({ passthrough: true }) res: Response): Promise<CommandResponse> {
    const out = respond(res, await this.commands.execute(new OnboardTenantCommand(body, ctx)));
    res.setHeader('Location', `/v1/tenants/${out.id}`);
    return out;
  }
}
