import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsISO8601, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, IsUUID, MaxLength, Min } from 'class-validator';
import type { PolicyDocument } from '@cmk/policy';

const DOC_EXAMPLE = { keyStrength: { allowedAlgorithms: ['AES', 'RSA'], minimumBits: { AES: 256, RSA: 3072 } }, rotation: { maxAgeDays: 90, warningDays: 14 }, geofence: { unwrapRegions: { EU: ['eu-central-1'] } } };

export class DefinePolicyRequest {
  @ApiPropertyOptional({ description: 'Client-chosen id (UUID); generated when absent' }) @IsOptional() @IsUUID() policyId?: string;
  @ApiProperty({ example: 'baseline' }) @IsString() @IsNotEmpty() @MaxLength(200) name: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;
  @ApiProperty({ description: 'The policy document; validated field by field', example: DOC_EXAMPLE }) @IsObject() document: PolicyDocument;
}

export class RevisePolicyRequest {
  @ApiProperty({ example: DOC_EXAMPLE }) @IsObject() document: PolicyDocument;
  @ApiPropertyOptional({ description: 'The version this change was based on; refused if the policy moved on' }) @IsOptional() @IsInt() @Min(1) basedOnVersion?: number;
  @ApiPropertyOptional({ description: 'Accept that the change makes existing key links non-compliant (recorded in the event)' }) @IsOptional() @IsBoolean() acceptImpact?: boolean;
}

export class AssignPolicyRequest {
  @ApiProperty({ description: '"global" or a tenant id', example: 'global' }) @IsString() @IsNotEmpty() scope: string;
  @ApiPropertyOptional({ description: 'Pin a version; absent follows the latest' }) @IsOptional() @IsInt() @Min(1) version?: number;
  @ApiPropertyOptional({ description: 'Accept that the assignment makes existing key links non-compliant (recorded in the event)' }) @IsOptional() @IsBoolean() acceptImpact?: boolean;
}

export class SimulatePolicyRequest {
  @ApiProperty({ description: 'A draft policy document', example: DOC_EXAMPLE }) @IsObject() document: PolicyDocument;
  @ApiPropertyOptional({ description: '"global" (default) or a tenant id', example: 'global' }) @IsOptional() @IsString() @IsNotEmpty() scope?: string;
  @ApiPropertyOptional({ description: 'Evaluate against the registry as it stood at this past time (replayed from the event store) instead of now', example: '2026-11-01T00:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'asOf must be an ISO 8601 time' }) asOf?: string;
}
