import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@cmk/auth';
import { Roles } from '../../http/auth.decorators';
import { KeyRotationRoundDto } from './key-rotation-round.response.dto';
import { KeyRotationScheduler, RotationRound } from './key-rotation-scheduler';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-rotation')
export class KeyRotationController {
  constructor(private readonly scheduler: KeyRotationScheduler) {}

  @Post('run')
  @HttpCode(200)
  @Roles(Role.PlatformOperator, Role.SecurityOfficer)
  @ApiOperation({ summary: 'Run a rotation round now: rotate overdue L1 keys where the provider can (record the others as due) and every overdue tenant key (L2)' })
  @ApiOkResponse({ type: KeyRotationRoundDto })
  run(): Promise<RotationRound> {
    return this.scheduler.runOnce();
  }
}
