import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse } from '../../shared/command-response';
import { APPROVABLE } from '../../approvals/approvable-operations';
import { PendingResponse, respondOrPending } from '../../approvals/approval-pending';
import { ExecutionContext } from '../../shared/aggregates';
import { ReasonRequest } from '../../shared/reason.request.dto';
import { RestoreKeyLinkCommand } from './restore-key-link.handler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class RestoreKeyLinkController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyLinkId/restore')
  @HttpCode(200)
  @Roles(...APPROVABLE.RestoreKeyLink.roles)
  @ApiOkResponse({ type: CommandResponse, description: '202 with { approvalId, status: pending } when policy holds it for approval' })
  async restore(
    @Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string,
    @Body() body: ReasonRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse | PendingResponse> {
    return respondOrPending(res, await this.commands.execute(new RestoreKeyLinkCommand(keyLinkId, body.reason, ctx)));
  }
}
