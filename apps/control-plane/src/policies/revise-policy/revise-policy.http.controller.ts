import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse } from '../../shared/command-response';
import { APPROVABLE } from '../../approvals/approvable-operations';
import { PendingResponse, respondOrPending } from '../../approvals/approval-pending';
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
  @Roles(...APPROVABLE.RevisePolicy.roles)
  @ApiCreatedResponse({ type: CommandResponse, description: '202 with { approvalId, status: pending } when policy holds it for approval' })
  async revise(
    @Param('policyId', new ParseUUIDPipe()) policyId: string,
    @Body() body: RevisePolicyRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse | PendingResponse> {
    return respondOrPending(res, await this.commands.execute(new RevisePolicyCommand(policyId, body, ctx)));
  }
}
