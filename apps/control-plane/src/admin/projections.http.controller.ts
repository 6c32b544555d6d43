import { Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Role } from '@cmk/auth';
import { Roles } from '../http/auth.decorators';
import { ReadSide } from '../shared/read-side';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/projections')
export class ProjectionsController {
  constructor(private readonly readSide: ReadSide) {}

  @Get()
  @Roles(Role.PlatformOperator, Role.Auditor)
  async list() {
    const items = await this.readSide.projections.status();
    return { items: items.map((s) => ({ ...s, position: s.position.toString(), headPosition: s.headPosition.toString() })) };
  }

  /** Rebuilds every read model from the first event in one pass over the log; progress shows in the list. */
  @Post('rebuild')
  @HttpCode(202)
  @Roles(Role.PlatformOperator)
  async rebuildAll() {
    return this.readSide.projections.rebuildAll();
  }

  /** Rebuilds a read model from the first event; progress shows in the list above. */
  @Post(':name/rebuild')
  @HttpCode(202)
  @Roles(Role.PlatformOperator)
  async rebuild(@Param('name') name: string) {
    const known = (await this.readSide.projections.status()).some((s) => s.name === name);
    if (!known) throw new NotFoundException(`projection ${name} does not exist`);
    return this.readSide.projections.rebuild(name);
  }
}
