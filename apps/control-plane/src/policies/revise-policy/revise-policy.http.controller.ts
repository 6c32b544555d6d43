import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { RevisePolicyRequest } from '../define-policy/define-policy.request.dto';
import { RevisePolicyCommand } from './revise-policy.handler';

@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class RevisePolicyController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':policyId/versions')
  @HttpCode(201)
  @Roles(Role.SecurityOfficer, Role.PlatformOperator)
  @ApiCreatedResponse({ type: CommandResponse })
  async revise(
    @Param('policyId', new ParseUUIDPipe()) policyId: string,
    @Body() body: RevisePolicyRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new RevisePolicyCommand(policyId, body, ctx)));
  }
}
