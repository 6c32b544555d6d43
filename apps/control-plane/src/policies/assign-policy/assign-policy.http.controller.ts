import { Body, Controller, Delete, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse } from '../../shared/command-response';
import { APPROVABLE } from '../../approvals/approvable-operations';
import { PendingResponse, respondOrPending } from '../../approvals/approval-pending';
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
  @Roles(...APPROVABLE.AssignPolicy.roles)
  @ApiOkResponse({ type: CommandResponse, description: '202 with { approvalId, status: pending } when policy holds it for approval' })
  async assign(
    @Param('policyId', new ParseUUIDPipe()) policyId: string,
    @Body() body: AssignPolicyRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse | PendingResponse> {
    return respondOrPending(res, await this.commands.execute(new AssignPolicyCommand(policyId, body.scope, body.version, ctx, body.acceptImpact)));
  }

  @Delete(':policyId/assignments/:scope')
  @HttpCode(200)
  @Roles(...APPROVABLE.UnassignPolicy.roles)
  @ApiOkResponse({ type: CommandResponse, description: '202 with { approvalId, status: pending } when policy holds it for approval' })
  async unassign(
    @Param('policyId', new ParseUUIDPipe()) policyId: string,
    @Param('scope') scope: string,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse | PendingResponse> {
    return respondOrPending(res, await this.commands.execute(new UnassignPolicyCommand(policyId, scope, ctx)));
  }
}
