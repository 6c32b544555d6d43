import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

export const APPROVAL_STATUSES = ['pending', 'approved', 'executed', 'failed', 'rejected', 'expired'] as const;

export class ApprovalsQuery {
  @ApiPropertyOptional({ description: 'Without it: the pending requests you may approve. With it: every request in that status you may see.', enum: APPROVAL_STATUSES })
  @IsOptional() @IsIn(APPROVAL_STATUSES) status?: (typeof APPROVAL_STATUSES)[number];
  @ApiPropertyOptional() @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional({ default: 50, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional({ description: 'Opaque cursor from a previous page' }) @IsOptional() @IsString() @MaxLength(64) @Matches(/^[A-Za-z0-9_-]+$/) cursor?: string;
}
