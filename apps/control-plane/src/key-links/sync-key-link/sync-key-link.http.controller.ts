import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Role } from '@cmk/auth';
import { KEY_HEALTH_CONDITIONS, invalidState } from '@cmk/domain';
import { CommandCtx, Roles } from '../../http/auth.decorators';
import { CommandResponse, respond } from '../../shared/command-response';
import { ExecutionContext } from '../../shared/aggregates';
import { LinkedKeys } from '../providers/linked-keys';
import { KeyHealthSync } from './key-health-sync';

class ObservationDto {
  @ApiProperty({ enum: KEY_HEALTH_CONDITIONS }) condition: string;
  @ApiPropertyOptional() providerCode?: string;
  @ApiPropertyOptional() fingerprint?: string;
  @ApiPropertyOptional() keyVersion?: string;
}

class SyncResponse extends CommandResponse {
  @ApiPropertyOptional({ type: ObservationDto, description: 'What the provider said; absent for a BYOK key still awaiting its material' })
  observation?: ObservationDto;
}

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class SyncKeyLinkController {
  constructor(private readonly health: KeyHealthSync, private readonly links: LinkedKeys) {}

  @Post(':keyLinkId/sync')
  @HttpCode(200)
  @Roles(Role.KeyAdmin, Role.PlatformOperator, Role.SecurityOfficer)
  @ApiOperation({ summary: 'Health sync now: observe the key at its provider and record what changed (degraded, healthy again, new version; revoke where policy says so)' })
  @ApiOkResponse({ type: SyncResponse })
  async sync(@Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string, @CommandCtx() ctx: ExecutionContext, @Res({ passthrough: true }) res: Response): Promise<SyncResponse> {
    const link = await this.links.load(keyLinkId, ctx.actor);
    if (link.status === 'unlinked') throw invalidState('key-link.unlinked', `key link ${keyLinkId} is unlinked; unlinking is final`, { keyLinkId });
    const outcome = await this.health.sync(link, ctx);
    const body = outcome.result.revision >= 0 ? respond(res, outcome.result) : { id: keyLinkId, revision: -1, position: '0', events: [] };
    return { ...body, id: keyLinkId, ...(outcome.observation ? { observation: outcome.observation } : {}) };
  }
}
