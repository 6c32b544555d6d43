import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Equals, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength, Min, ValidateNested } from 'class-validator';
import { JURISDICTIONS, PROVIDER_KINDS } from '@cmk/domain';
import { REGION_PATTERN } from '../tenants/onboard-tenant/onboard-tenant.request.dto';

/** Exactly one criterion (checked in the handler, which names the fields given). */
export class KillSwitchScopeDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional({ enum: JURISDICTIONS }) @IsOptional() @IsIn(JURISDICTIONS) jurisdiction?: string;
  @ApiPropertyOptional({ enum: PROVIDER_KINDS }) @IsOptional() @IsIn(PROVIDER_KINDS) providerKind?: string;
  @ApiPropertyOptional({ description: 'where the root of trust lives', example: 'eu-west-1' })
  @IsOptional() @Matches(REGION_PATTERN, { message: 'providerRegion must be a region name like eu-central-1' }) providerRegion?: string;
  @ApiPropertyOptional({ description: 'where the workloads using the key run', example: 'us-east-1' })
  @IsOptional() @Matches(REGION_PATTERN, { message: 'systemRegion must be a region name like eu-central-1' }) systemRegion?: string;
  @ApiPropertyOptional({ description: 'everything' }) @IsOptional() @Equals(true, { message: 'all must be true when given' }) all?: true;
}

export class KillSwitchDryRunRequest {
  @ApiProperty({ type: KillSwitchScopeDto }) @ValidateNested() @Type(() => KillSwitchScopeDto) scope: KillSwitchScopeDto;
}

export class KillSwitchRequest extends KillSwitchDryRunRequest {
  @ApiProperty({ description: 'Why; recorded with every revocation' }) @IsString() @IsNotEmpty() @MaxLength(1000) reason: string;
  @ApiPropertyOptional({ description: 'Refuse (409) unless exactly this many key links are in scope, as the dry run said' })
  @IsOptional() @IsInt() @Min(0) expectedKeyLinks?: number;
}
