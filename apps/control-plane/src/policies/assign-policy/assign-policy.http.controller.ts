import { Body, Controller, Delete, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { AssignPolicyRequest } from '../define-policy/define-policy.request.dto';
import { AssignPolicyCommand } from './assign-policy.handler';
import { UnassignPolicyCommand } from '../unassign-policy/unassign-policy.handler';

@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class AssignPolicyController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':policyId/assignments')
  @HttpCode(200)
  @Roles(Role.SecurityOfficer, Role.PlatformOperator)
  @ApiOkResponse({ type: CommandResponse })
  async assign(
    @Param('policyId', new ParseUUIDPipe()) policyId: string,
    @Body() body: AssignPolicyRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new AssignPolicyCommand(policyId, body.scope, body.version, ctx, body.acceptImpact)));
  }

  @Delete(':policyId/assignments/:scope')
  @HttpCode(200)
  @Roles(Role.SecurityOfficer, Role.PlatformOperator)
  @ApiOkResponse({ type: CommandResponse })
  async unassign(
    @Param('policyId', new ParseUUIDPipe()) policyId: string,
    @Param('scope') scope: string,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new UnassignPolicyCommand(policyId, scope, ctx)));
  }
}
