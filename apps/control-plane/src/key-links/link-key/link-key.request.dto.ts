import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { KEY_ALGORITHMS, LINK_MODES, PROVIDER_KINDS } from '@cmk/domain';
import { REGION_PATTERN } from '../../tenants/onboard-tenant/onboard-tenant.request.dto';

export class LinkKeyRequest {
  @ApiPropertyOptional({ description: 'Client-chosen id (UUID); generated when absent' }) @IsOptional() @IsUUID() keyLinkId?: string;
  @ApiProperty({ enum: PROVIDER_KINDS }) @IsIn(PROVIDER_KINDS) providerKind: (typeof PROVIDER_KINDS)[number];
  @ApiProperty({ enum: LINK_MODES }) @IsIn(LINK_MODES) mode: (typeof LINK_MODES)[number];
  @ApiProperty({ description: 'Where the key lives at the provider (label, ARN, resource name); never key material', example: 'pkcs11:token=acme;object=root-2026' })
  @IsString() @IsNotEmpty() @MaxLength(2048) keyReference: string;
  @ApiProperty({ enum: KEY_ALGORITHMS }) @IsIn(KEY_ALGORITHMS) algorithm: (typeof KEY_ALGORITHMS)[number];
  @ApiProperty({ example: 256 }) @IsInt() keySize: number;
  @ApiProperty({ example: 'eu-central-1' }) @IsString() @Matches(REGION_PATTERN, { message: 'providerRegion must be a region name like eu-central-1' }) providerRegion: string;
  @ApiPropertyOptional({
    description: 'Where this link\'s provider credentials come from: env:NAME, file:/absolute/path or secret:name. A reference, never the credential; absent: the control plane\'s configured credentials',
    example: 'env:ACME_HSM_PIN',
  })
  @IsOptional() @IsString() @MaxLength(1024) credentialRef?: string;
}
