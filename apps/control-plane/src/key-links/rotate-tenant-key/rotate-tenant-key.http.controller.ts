import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { RotateTenantKeyCommand } from './rotate-tenant-key.handler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class RotateTenantKeyController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':keyLinkId/rotate-tenant-key')
  @HttpCode(200)
  @Roles(Role.KeyAdmin)
  @ApiOperation({ summary: 'Rotate the tenant key (L2): new data keys under a new version; older versions only unwrap' })
  @ApiOkResponse({ type: CommandResponse })
  async rotate(@Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string, @CommandCtx() ctx: ExecutionContext, @Res({ passthrough: true }) res: Response): Promise<CommandResponse> {
    return respond(res, await this.commands.execute(new RotateTenantKeyCommand(keyLinkId, ctx)));
  }
}
