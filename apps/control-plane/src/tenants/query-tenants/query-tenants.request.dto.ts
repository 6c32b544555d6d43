import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { JURISDICTIONS } from '@cmk/domain';
import { PageQuery } from '../../shared/list.query.dto';

export class ListTenantsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['active', 'suspended', 'offboarded'] }) @IsOptional() @IsIn(['active', 'suspended', 'offboarded']) status?: string;
  @ApiPropertyOptional({ enum: JURISDICTIONS }) @IsOptional() @IsIn(JURISDICTIONS) jurisdiction?: string;
}

export class TenantStateQuery {
  @ApiProperty({ description: 'ISO 8601 time; the state is rebuilt by replaying events recorded up to it' })
  @IsISO8601({ strict: true }, { message: 'asOf must be an ISO 8601 time' }) asOf: string;
}
