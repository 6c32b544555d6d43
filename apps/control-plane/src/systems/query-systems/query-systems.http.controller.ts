import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID, Matches } from 'class-validator';
import type { Response } from 'express';
import type { Actor } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { AnyRole, CurrentActor } from '../../http/auth.decorators';
import { PageQuery, ReadQuery } from '../../shared/list.query.dto';
import { ReadSide } from '../../shared/read-side';
import { REGION_PATTERN } from '../../tenants/onboard-tenant/onboard-tenant.request.dto';

export class ListSystemsQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(REGION_PATTERN, { message: 'region must be a region name like eu-central-1' }) region?: string;
  @ApiPropertyOptional({ enum: ['registered', 'deregistered'] }) @IsOptional() @IsIn(['registered', 'deregistered']) status?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() keyLinkId?: string;
}

@ApiTags('systems')
@ApiBearerAuth()
@Controller('v1/systems')
export class QuerySystemsController {
  constructor(private readonly readSide: ReadSide) {}

  @Get()
  @AnyRole()
  async list(@Query() q: ListSystemsQuery, @CurrentActor() actor: Actor) {
    if (q.tenantId) assertTenantAccess(actor, q.tenantId);
    await this.readSide.atLeast(q.minPosition);
    return this.readSide.queries.listSystems(
      { tenantId: q.tenantId, region: q.region, status: q.status, keyLinkId: q.keyLinkId },
      { limit: q.limit, cursor: q.cursor },
      actor.tenantScope,
    );
  }

  @Get(':systemId')
  @AnyRole()
  async get(@Param('systemId', new ParseUUIDPipe()) id: string, @Query() q: ReadQuery, @CurrentActor() actor: Actor, @Res({ passthrough: true }) res: Response) {
    await this.readSide.atLeast(q.minPosition);
    const system = await this.readSide.queries.getSystem(id);
    if (!system) throw new NotFoundException(`system ${id} does not exist`);
    assertTenantAccess(actor, system.tenantId);
    res.setHeader('ETag', `"${system.revision}"`);
    return system;
  }
}
