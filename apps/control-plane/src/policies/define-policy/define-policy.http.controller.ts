import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { DefinePolicyCommand } from './define-policy.handler';
import { DefinePolicyRequest } from './define-policy.request.dto';

@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class DefinePolicyController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @Roles(Role.SecurityOfficer, Role.PlatformOperator)
  @ApiCreatedResponse({ type: CommandResponse })
  async define(@Body() body: DefinePolicyRequest, @CommandCtx() ctx: ExecutionContext, @Res({ passthrough: true }) res: Response): Promise<CommandResponse> {
    const out = respond(res, await this.commands.execute(new DefinePolicyCommand(body, ctx)));
    res.setHeader('Location', `/v1/policies/${out.id}`);
    return out;
  }
}
