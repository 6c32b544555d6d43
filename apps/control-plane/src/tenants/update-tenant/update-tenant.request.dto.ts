import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { DATA_CLASSIFICATIONS } from '@cmk/domain';
import { ContactDto, REGION_PATTERN } from '../onboard-tenant/onboard-tenant.request.dto';

export class UpdateTenantRequest {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) displayName?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(REGION_PATTERN, { message: 'homeRegion must be a region name like eu-central-1' }) homeRegion?: string;
  @ApiPropertyOptional({ enum: DATA_CLASSIFICATIONS }) @IsOptional() @IsIn(DATA_CLASSIFICATIONS) dataClassification?: (typeof DATA_CLASSIFICATIONS)[number];
  @ApiPropertyOptional({ type: [ContactDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => ContactDto) contacts?: ContactDto[];
}
