import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateNested } from 'class-validator';
import { DATA_CLASSIFICATIONS, JURISDICTIONS } from '@cmk/domain';

export const REGION_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export class ContactDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) name: string;
  @ApiProperty() @IsEmail() email: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) role?: string;
}

export class OnboardTenantRequest {
  @ApiPropertyOptional({ description: 'Client-chosen id (UUID); generated when absent' })
  @IsOptional() @IsUUID() tenantId?: string;
  @ApiProperty({ example: 'ACME Europe GmbH' }) @IsString() @IsNotEmpty() @MaxLength(200) displayName: string;
  @ApiProperty({ enum: JURISDICTIONS }) @IsIn(JURISDICTIONS) jurisdiction: (typeof JURISDICTIONS)[number];
  @ApiProperty({ example: 'eu-central-1' }) @IsString() @Matches(REGION_PATTERN, { message: 'homeRegion must be a region name like eu-central-1' }) homeRegion: string;
  @ApiProperty({ enum: DATA_CLASSIFICATIONS }) @IsIn(DATA_CLASSIFICATIONS) dataClassification: (typeof DATA_CLASSIFICATIONS)[number];
  @ApiProperty({ type: [ContactDto] })
  @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => ContactDto) contacts: ContactDto[];
}
