import { ApiProperty } from '@nestjs/swagger';

export class RotationFailureDto {
  @ApiProperty() keyLinkId: string;
  @ApiProperty({ description: 'Stable error code (provider status or domain rule); never provider free text' }) code: string;
}

export class TenantKeyRotatedDto {
  @ApiProperty() keyLinkId: string;
  @ApiProperty({ description: 'The L2 version found overdue' }) fromVersion: number;
  @ApiProperty({ description: 'The L2 version new data keys are sealed under from now on' }) toVersion: number;
  @ApiProperty({ description: 'The policy whose rotation.tenantKeyMaxAgeDays made it due' }) policyId: string;
  @ApiProperty() policyVersion: number;
}

export class TenantKeyRoundDto {
  @ApiProperty() overdue: number;
  @ApiProperty({ type: [TenantKeyRotatedDto] }) rotated: TenantKeyRotatedDto[];
  @ApiProperty({ type: [String], description: 'Overdue versions already replaced by an earlier round or another instance' }) alreadyRotated: string[];
  @ApiProperty({ type: [RotationFailureDto] }) failed: RotationFailureDto[];
}

export class KeyRotationRoundDto {
  @ApiProperty({ description: 'False when another instance held the scheduler lock: this one did nothing' }) acted: boolean;
  @ApiProperty({ description: 'L1 keys past rotation.maxAgeDays' }) overdue: number;
  @ApiProperty({ type: [String], description: 'L1 keys rotated at their provider' }) rotated: string[];
  @ApiProperty({ type: [String], description: 'L1 keys a person must rotate (the provider cannot, or is not reachable from here)' }) due: string[];
  @ApiProperty({ type: [RotationFailureDto] }) failed: RotationFailureDto[];
  @ApiProperty({ type: TenantKeyRoundDto, description: 'Tenant keys (L2) past rotation.tenantKeyMaxAgeDays' }) tenantKeys: TenantKeyRoundDto;
}
