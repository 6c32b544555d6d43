import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AnyRole } from '../../http/auth.decorators';
import { PageQuery, ReadQuery } from '../../shared/list.query.dto';
import { ReadSide } from '../../shared/read-side';

/** Policies are platform data, readable by every role (tenants must see the rules they are held to). */
@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class QueryPoliciesController {
  constructor(private readonly readSide: ReadSide) {}

  @Get()
  @AnyRole()
  async list(@Query() q: PageQuery) {
    await this.readSide.atLeast(q.minPosition);
    return this.readSide.queries.listPolicies({ limit: q.limit, cursor: q.cursor });
  }

  @Get(':policyId')
  @AnyRole()
  async get(@Param('policyId', new ParseUUIDPipe()) id: string, @Query() q: ReadQuery) {
    await this.readSide.atLeast(q.minPosition);
    const policy = await this.readSide.queries.getPolicy(id);
    if (!policy) throw new NotFoundException(`policy ${id} does not exist`);
    return policy;
  }
}
