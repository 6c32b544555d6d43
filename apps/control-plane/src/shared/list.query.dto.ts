import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** Cursor pagination and read-your-writes, shared by every list endpoint. */
export class PageQuery {
  @ApiPropertyOptional({ default: 50, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional({ description: 'Opaque cursor from a previous page' }) @IsOptional() @IsString() @MaxLength(512) cursor?: string;
  @ApiPropertyOptional({ description: 'Wait until the read models reflect this global position' })
  @IsOptional() @Matches(/^\d{1,19}$/, { message: 'minPosition must be a non-negative integer' }) minPosition?: string;
}

export class ReadQuery {
  @ApiPropertyOptional({ description: 'Wait until the read models reflect this global position' })
  @IsOptional() @Matches(/^\d{1,19}$/, { message: 'minPosition must be a non-negative integer' }) minPosition?: string;
}
