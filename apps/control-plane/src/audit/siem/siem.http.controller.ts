import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role } from '@cmk/auth';
import { Roles } from '../../http/auth.decorators';
import { SiemExport } from './siem-export';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit/siem')
export class SiemController {
  constructor(private readonly siem: SiemExport) {}

  @Get()
  @Roles(Role.Auditor, Role.PlatformOperator, Role.SecurityOfficer)
  @ApiOperation({ summary: 'Each SIEM sink: state (ok, retrying, failing), last delivered position, lag, last error; and the latest dead letters' })
  async status() {
    return { sinks: this.siem.status(), deadLetters: await this.siem.deadLetters() };
  }
}
