import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse } from '../../shared/command-response';
import { APPROVABLE } from '../../approvals/approvable-operations';
import { isPending, PendingResponse, respondOrPending } from '../../approvals/approval-pending';
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
  @Roles(...APPROVABLE.DefinePolicy.roles)
  @ApiCreatedResponse({ type: CommandResponse, description: '202 with { approvalId, status: pending } when policy holds it for approval' })
  async define(@Body() body: DefinePolicyRequest, @CommandCtx() ctx: ExecutionContext, @Res({ passthrough: true }) res: Response): Promise<CommandResponse | PendingResponse> {
    const out = respondOrPending(res, await this.commands.execute(new DefinePolicyCommand(body, ctx)));
    if (!isPending(out)) res.setHeader('Location', `/v1/policies/${out.id}`);
    return out;
  }
}
