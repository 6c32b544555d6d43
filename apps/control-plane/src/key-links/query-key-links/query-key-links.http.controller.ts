import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import type { Response } from 'express';
import { Actor, PROVIDER_KINDS } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { AnyRole, CurrentActor } from '../../http/auth.decorators';
import { PageQuery, ReadQuery } from '../../shared/list.query.dto';
import { ReadSide } from '../../shared/read-side';

export class ListKeyLinksQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional({ enum: ['pending', 'active', 'revoked', 'unlinked'] }) @IsOptional() @IsIn(['pending', 'active', 'revoked', 'unlinked']) status?: string;
  @ApiPropertyOptional({ enum: PROVIDER_KINDS }) @IsOptional() @IsIn(PROVIDER_KINDS) providerKind?: string;
}

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class QueryKeyLinksController {
  constructor(private readonly readSide: ReadSide) {}

  @Get()
  @AnyRole()
  async list(@Query() q: ListKeyLinksQuery, @CurrentActor() actor: Actor) {
    if (q.tenantId) assertTenantAccess(actor, q.tenantId);
    await this.readSide.atLeast(q.minPosition);
    return this.readSide.queries.listKeyLinks({ tenantId: q.tenantId, status: q.status, providerKind: q.providerKind }, { limit: q.limit, cursor: q.cursor }, actor.tenantScope);
  }

  @Get(':keyLinkId')
  @AnyRole()
  async get(@Param('keyLinkId', new ParseUUIDPipe()) id: string, @Query() q: ReadQuery, @CurrentActor() actor: Actor, @Res({ passthrough: true }) res: Response) {
    await this.readSide.atLeast(q.minPosition);
    const link = await this.readSide.queries.getKeyLink(id);
    if (!link) throw new NotFoundException(`key link ${id} does not exist`);
    assertTenantAccess(actor, link.tenantId);
    res.setHeader('ETag', `"${link.revision}"`);
    return link;
  }
}
