import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { REGION_PATTERN } from '../../tenants/onboard-tenant/onboard-tenant.request.dto';

export class RegisterSystemRequest {
  @ApiPropertyOptional({ description: 'Client-chosen id (UUID); generated when absent' }) @IsOptional() @IsUUID() systemId?: string;
  @ApiProperty({ example: 'billing-service' }) @IsString() @IsNotEmpty() @MaxLength(200) name: string;
  @ApiProperty({ example: 'eu-central-1' }) @IsString() @Matches(REGION_PATTERN, { message: 'region must be a region name like eu-central-1' }) region: string;
  @ApiProperty({ description: 'The tenant key link this system uses' }) @IsUUID() keyLinkId: string;
}

export class RebindSystemRequest {
  @ApiProperty({ description: 'The tenant key link the system moves to' }) @IsUUID() keyLinkId: string;
}
