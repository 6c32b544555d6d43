import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { LinkKeyCommand } from './link-key.handler';
import { LinkKeyRequest } from './link-key.request.dto';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/tenants')
export class LinkKeyController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':tenantId/key-links')
  @HttpCode(201)
  @Roles(Role.KeyAdmin, Role.PlatformOperator)
  @ApiCreatedResponse({ type: CommandResponse })
  @ApiUnprocessableEntityResponse({ description: 'Refused by policy; the problem lists each violated rule' })
  async link(
    @Param('tenantId', new ParseUUIDPipe()) tenantId: string,
    @Body() body: LinkKeyRequest,
    @CommandCtx() ctx: ExecutionContext,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandResponse> {
    const out = respond(res, await this.commands.execute(new LinkKeyCommand(tenantId, body, ctx)));
    res.setHeader('Location', `/v1/key-links/${out.id}`);
    return out;
  }
}
