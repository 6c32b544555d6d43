import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@cmk/auth';
import { Roles } from '../../http/auth.decorators';
import { KeyRotationScheduler } from './key-rotation-scheduler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-rotation')
export class KeyRotationController {
  constructor(private readonly scheduler: KeyRotationScheduler) {}

  @Post('run')
  @HttpCode(200)
  @Roles(Role.PlatformOperator, Role.SecurityOfficer)
  @ApiOperation({ summary: 'Run a rotation round now: rotate overdue keys where the provider can, record the others as due' })
  run() {
    return this.scheduler.runOnce();
  }
}
