import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Actor } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { AnyRole, CurrentActor } from '../../http/auth.decorators';
import { ReadSide } from '../../shared/read-side';
import { ReadQuery } from '../../shared/list.query.dto';
import { TenantHistory } from '../../audit/tenant-history';
import { ListTenantsQuery, TenantStateQuery } from './query-tenants.request.dto';

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class QueryTenantsController {
  constructor(private readonly readSide: ReadSide, private readonly history: TenantHistory) {}

  @Get()
  @AnyRole()
  async list(@Query() q: ListTenantsQuery, @CurrentActor() actor: Actor) {
    await this.readSide.atLeast(q.minPosition);
    return this.readSide.queries.listTenants({ status: q.status, jurisdiction: q.jurisdiction }, { limit: q.limit, cursor: q.cursor }, actor.tenantScope);
  }

  @Get(':tenantId')
  @AnyRole()
  async get(@Param('tenantId', new ParseUUIDPipe()) tenantId: string, @Query() q: ReadQuery, @CurrentActor() actor: Actor, @Res({ passthrough: true }) res: Response) {
    assertTenantAccess(actor, tenantId);
    await this.readSide.atLeast(q.minPosition);
    const tenant = await this.readSide.queries.getTenant(tenantId);
    if (!tenant) throw new NotFoundException(`tenant ${tenantId} does not exist`);
    res.setHeader('ETag', `"${tenant.revision}"`);
    return tenant;
  }

  /** Time travel: the tenant, its links, systems and policies in force as of a past time, by replay. */
  @Get(':tenantId/state')
  @AnyRole()
  async stateAsOf(@Param('tenantId', new ParseUUIDPipe()) tenantId: string, @Query() q: TenantStateQuery, @CurrentActor() actor: Actor) {
    assertTenantAccess(actor, tenantId);
    const state = await this.history.asOf(tenantId, new Date(q.asOf));
    if (!state.tenant) throw new NotFoundException(`tenant ${tenantId} did not exist at ${q.asOf}`);
    return state;
  }
}
