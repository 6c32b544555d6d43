import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class ReasonRequest {
  @ApiProperty({ description: 'Why; recorded in the audit log' }) @IsString() @IsNotEmpty() @MaxLength(1000) reason: string;
}

export class OptionalReasonRequest {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) reason?: string;
}
